"""What a reply means. Pure reading of text: nothing here sends anything or decides what to do.

People read every reply except a few unambiguous ones, so each rule leans towards
`Intent.OTHER` ("a person reads it"). The order is fixed:

1. A whole-message keyword exactly as typed (STOP, START, PAUSE, HELP, CALL): plain "help" is HELP.
2. The distress list, on any text. A match is OTHER with worrying=True, even after "yes".
3. A keyword wrapped in politeness ("stop please", "can you call me thanks x").
4. The answer to what we last asked: yes/no/maybe to an invitation, or 1-5 or PASS to a check-in.
   If we asked nothing, yes/no/maybe and numbers mean nothing on their own.

`worrying` has two meanings. With OTHER it means the distress list matched (crisis routing,
R-2.4). With SCORE it means a low score (a same-day task, R-2.3). Nothing else sets it.

Judgement calls:
* Mixed or unknown words make the whole reply OTHER: "yes no", "yes but...", "4 😢".
  A face that roughly agrees with the score is fine: "3 👍" is 3, "2 😢" is 2.
* PASS (pass, skip, no thanks, rather not) only answers a check-in. Anywhere else "pass" may
  mean "no", and "no thanks" to an invitation is NO. A bare "no" to a check-in is OTHER because
  it may mean "not good".
* Check-in words: great, good, fine, well, all good and happy faces are 4. "Really good",
  "brilliant" and the like are 5, because people rarely call an ordinary day their best.
* "cancel" and "end" are STOP, as Twilio treats them, so our record matches the carrier's.
  A few plain requests ("stop texting me", "remove me") are STOP too. "resume" and "unpause"
  are START, the natural way to end a PAUSE.
* Words typed with extra letters count as the word ("yesss", "nooo", "stoppp"). Numbers never
  do: "11" is not 1.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

from store.errors import Refused

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DEFAULT_DISTRESS_WORDS = TEMPLATES / "replies" / "distress_words.txt"
LOW_SCORE = 2  # a check-in score at or below this goes to a person the same working day
MAX_PAUSE_DAYS = 365


class Intent(StrEnum):
    YES = "yes"  # answers to an invitation
    NO = "no"
    MAYBE = "maybe"
    STOP = "stop"  # keywords, in any context
    START = "start"
    PAUSE = "pause"
    HELP = "help"
    CALL = "call"
    SCORE = "score"  # answers to a check-in
    PASS = "pass"
    OTHER = "other"  # free text: kept for the link worker


class Asked(StrEnum):
    """What the latest message we sent them asked."""

    NOTHING = "nothing"
    INVITATION = "invitation"
    CHECK_IN = "check_in"


@dataclass(frozen=True)
class Understood:
    intent: Intent
    score: int | None = None  # 1 (not good) .. 5 (good), only for SCORE
    pause_days: int | None = None  # for "PAUSE 2 weeks"; None means until they get in touch
    worrying: bool = False  # distress words matched (OTHER), or a low score (SCORE)
    # They said more than the answer ("2, not a great day"): a person reads the rest.
    more: bool = False


class DistressWordsError(Refused):
    """The distress list can't be used; the message names the file and what to fix."""


# --- normalising ---------------------------------------------------------------------------------

_QUOTES = str.maketrans(dict.fromkeys("‘’‚‛′`´ʼ", "'") | dict.fromkeys("“”„‟″«»", '"'))
# Variation selectors, skin tones, the keycap ring, zero-width characters and flag tags change how
# an emoji looks, never what it says. A gendered tail goes too: 🤷‍♀️ is 🤷.
_INVISIBLE = re.compile(
    "\u200d[\u2640\u2642]"
    "|[\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\u20e3\u200b-\u200d\u2060\ufeff\U000e0020-\U000e007f]"
)
_EMOTICONS = {
    ":)": "🙂",
    ":-)": "🙂",
    ":(": "🙁",
    ":-(": "🙁",
    ":'(": "😢",
    ":d": "😀",
    ":-d": "😀",
    ";)": "😉",
    ";-)": "😉",
    "<3": "❤",
}
_EMOTICON = re.compile(
    r"(?<!\S)(" + "|".join(map(re.escape, sorted(_EMOTICONS, key=len, reverse=True))) + r")(?!\S)"
)
_BOT_COMMAND = re.compile(r"^/([a-z]+)@\w+")  # Telegram's "/stop@SomeBot" in a group chat
_EDGE = " !.,?;:…~-–—_*\"'()[]{}<>/\\|#"
_TOKEN = re.compile(r"(?P<word>[^\W_]+(?:'[^\W_]+)*)|(?P<mark>\S)")


def normalise(text: str) -> str:
    """The reply as we compare it: NFKC, casefolded, ASCII quotes, no emoji modifiers, single
    spaces and no punctuation at either end. Emoji stay, because they are answers too."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES))
    text = " ".join(_INVISIBLE.sub("", text).split())
    text = _BOT_COMMAND.sub(r"/\1", text)
    text = _EMOTICON.sub(lambda m: _EMOTICONS[m.group(1)], text)
    return text.strip(_EDGE)


def _split(clean: str) -> tuple[str, ...]:
    """Words without apostrophes ("can't" is "cant") and emoji, in order. Punctuation is dropped."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(clean):
        if match.group("word"):
            tokens.append(match.group("word").replace("'", ""))
        elif unicodedata.category(match.group("mark")) == "So":
            tokens.append(match.group("mark"))
    return tuple(tokens)


def _phrase(text: str) -> tuple[str, ...]:
    return _split(normalise(text))


# --- the tables ----------------------------------------------------------------------------------

_Value: TypeAlias = Intent | int  # an int is a check-in score


def _table(groups: Mapping[_Value, Iterable[str]]) -> dict[tuple[str, ...], _Value]:
    table: dict[tuple[str, ...], _Value] = {}
    for value, texts in groups.items():
        for text in texts:
            key = _phrase(text)
            if table.get(key, value) != value:
                raise AssertionError(f"{text!r} is listed with two meanings")
            table[key] = value
    return table


def _phrases(*texts: str) -> frozenset[tuple[str, ...]]:
    return frozenset(_phrase(text) for text in texts)


# Words that add warmth, not meaning, in any context.
_FILLERS = _phrases(
    *("thanks", "thank you", "thanks so much", "thank you so much", "many thanks", "thanks again"),
    *("ta", "cheers", "thx", "ty", "x", "xx", "xxx", "xo", "please", "pls", "plz", "sorry"),
    *("hi", "hiya", "hey", "hello", "😊", "🙂", "😀", "😁", "😃", "😄", "😉", "❤", "🙏", "💕"),
    *("💜", "💙", "💚", "😘", "🥰", "🤗"),
)

_KEYWORDS = _table(
    {
        Intent.STOP: (
            *("stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke"),
            *("optout", "opt out", "stop messaging me", "stop texting me", "stop messages"),
            *("stop texts", "stop sending messages", "stop sending me messages"),
            *("no more messages", "no more texts", "unsubscribe me", "remove me"),
        ),
        Intent.START: ("start", "unstop", "resume", "unpause", "start again"),
        Intent.HELP: ("help", "info"),
        Intent.CALL: (
            *("call", "call me", "call me back", "ring me", "ring me back", "phone me"),
            *("please call", "please call me", "call me please", "please ring me"),
            *("can you call me", "could you call me", "can you ring me", "could you ring me"),
            *("can you phone me", "could you phone me", "can someone call me"),
            *("can someone ring me", "give me a call", "give me a ring"),
        ),
    }
)

_INVITATION = _table(
    {
        Intent.YES: (
            *("yes", "y", "yeah", "yea", "yeh", "yep", "yup", "ya", "aye", "sure", "ok", "okay"),
            *("yes please", "i'll be there", "i will be there", "count me in", "see you there"),
            *("i can come", "i can make it", "definitely", "of course", "👍", "✅", "👌", "✔", "☑"),
        ),
        Intent.NO: (
            *("no", "n", "nope", "nah", "sorry no", "can't", "cannot", "i can't", "i cannot"),
            *("can't make it", "i can't make it", "can't come", "i can't come", "can't go"),
            *("won't make it", "i won't make it", "won't be there", "i won't be there"),
            *("not this time", "not able to", "not able to come", "not able to make it"),
            *("unable to", "unable to come", "unable to make it", "i'm unable to make it"),
            *("i'm not able to make it", "i'm not able to come", "count me out", "👎", "❌"),
            "✖",
        ),
        Intent.MAYBE: (
            *("maybe", "not sure", "not sure yet", "unsure", "possibly", "might", "i might"),
            *("might do", "perhaps", "i'll try", "i will try", "hopefully", "probably"),
            *("don't know", "i don't know", "dunno", "idk", "tbc", "i'll let you know"),
            *("will let you know", "i'll see", "we'll see", "🤷", "🤔"),
        ),
    }
)

_CHECK_IN = _table(
    {
        5: (
            *("5", "five", "really good", "really well", "very good", "really great"),
            *("brilliant", "amazing", "fantastic", "excellent", "the best"),
        ),
        4: (
            *("4", "four", "great", "good", "fine", "well", "very well", "all good"),
            *("doing well", "😀", "😁", "😃", "😄", "😊", "🙂", "👍"),
        ),
        3: (
            *("3", "three", "ok", "okay", "alright", "all right", "not bad", "not too bad"),
            *("so so", "average", "could be worse", "middling", "up and down", "😐", "😶"),
        ),
        2: (
            *("2", "two", "not great", "not good", "not so good", "not too good", "not so great"),
            *("not ok", "not okay", "not alright", "not well", "not fine", "not the best"),
            *("meh", "low", "rough", "down", "could be better", "been better", "i've been better"),
            *("😕", "🙁", "👎", "☹", "😟", "😔"),
        ),
        1: (
            *("1", "one", "bad", "awful", "terrible", "rubbish", "struggling", "really bad"),
            *("very bad", "really low", "really struggling", "really rough", "horrible"),
            *("dreadful", "shit", "crap", "the worst", "😢", "😭", "😞"),
        ),
        Intent.PASS: (
            *("pass", "skip", "no thanks", "no thank you", "i'll pass", "i will pass"),
            *("pass for now", "rather not", "i'd rather not", "rather not say"),
            *("i'd rather not say", "prefer not to say", "i'd prefer not to"),
        ),
    }
)

# Lead-ins and tails around a check-in answer: "I'm feeling a bit low today tbh".
_CHECK_IN_FILLERS = _FILLERS | _phrases(
    *("i'm", "i am", "feeling", "i'm feeling", "i feel", "feel", "doing", "i'm doing", "its"),
    *("it is", "been", "i've been", "pretty", "quite", "a bit", "bit", "a little", "today"),
    *("tonight", "this week", "at the moment", "atm", "right now", "now", "just", "tbh"),
    *("honestly", "to be honest", "about", "around", "roughly", "like", "a", "i'd say"),
    *("i think", "overall", "things are", "generally", "so far", "thanks for asking"),
)

_PAUSE_UNTIL_THEY_SAY = _phrases("", "for now", "for a while", "for a bit", "messages")
_COUNT_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_PAUSE_COUNTS = {(word,): n for n, word in enumerate((*_COUNT_WORDS, "eleven", "twelve"), 1)}
_PAUSE_COUNTS |= {("a",): 1, ("an",): 1}
_PAUSE_COUNTS |= dict.fromkeys(_phrases("a couple of", "couple of", "a couple"), 2)
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "fortnight": 14, "month": 30, "year": 365}
_UNIT_DAYS |= {unit + "s": days for unit, days in _UNIT_DAYS.items()}
_COUNT_AND_UNIT = re.compile(r"([0-9]{1,3})([a-z]+)")  # "2weeks"

_KNOWN = (
    _KEYWORDS.keys()
    | _INVITATION.keys()
    | _CHECK_IN.keys()
    | _CHECK_IN_FILLERS
    | _PAUSE_COUNTS.keys()
)
_VOCABULARY = frozenset(word for phrase in _KNOWN for word in phrase) | {"pause", "for"}
_VOCABULARY |= _UNIT_DAYS.keys()
_LONGEST = max(len(phrase) for phrase in _KNOWN)

# "3/5" and "3 out of 5" are 3; any other scale ("7/10") is for a person to read.
_FRACTION = re.compile(r"(?<![0-9])([0-9]{1,3}) ?(?:/|out of|outta|of) ?([0-9]{1,3})(?![0-9])")


# --- distress ------------------------------------------------------------------------------------

# Ways of writing the same words, so the list need not spell each one: "cannot" is "can't".
_SAME_WORDS = {
    "cannot": "cant",
    "can not": "cant",
    "i am": "im",
    "he is": "hes",
    "she is": "shes",
    "do not": "dont",
    "wanna": "want to",
    "gonna": "going to",
}
_SAME_WORDS_PATTERN = re.compile(
    "(?<= )(?:" + "|".join(sorted(map(re.escape, _SAME_WORDS), key=len, reverse=True)) + ")(?= )"
)


def _distress_form(text: str) -> str:
    """Words joined by single spaces, padded with a space each side, so `in` finds whole words."""
    padded = " " + " ".join(_phrase(text)) + " "
    return _SAME_WORDS_PATTERN.sub(lambda m: _SAME_WORDS[m.group()], padded)


@dataclass(frozen=True)
class DistressWords:
    """Words and phrases that mean a person must look now, kept by staff as a text file."""

    phrases: tuple[str, ...]
    _forms: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        phrases = tuple(self.phrases)
        if not phrases:
            raise DistressWordsError("the distress list is empty; it must list at least one phrase")
        forms = tuple(_distress_form(phrase) for phrase in phrases)
        for phrase, form in zip(phrases, forms, strict=True):
            if not form.strip():
                raise DistressWordsError(f"{phrase!r} has no words to match; remove it or add some")
        object.__setattr__(self, "phrases", phrases)
        object.__setattr__(self, "_forms", forms)

    @classmethod
    def load(cls, path: Path | None = None) -> DistressWords:
        """Read one phrase per line; blank lines and lines starting with # are skipped."""
        source = path or DEFAULT_DISTRESS_WORDS
        phrases: list[str] = []
        for number, line in enumerate(source.read_text(encoding="utf-8-sig").splitlines(), 1):
            phrase = line.strip()
            if not phrase or phrase.startswith("#"):
                continue
            if not _distress_form(phrase).strip():
                raise DistressWordsError(
                    f"{source}, line {number}: {phrase!r} has no words to match; fix or remove it"
                )
            phrases.append(phrase)
        if not phrases:
            raise DistressWordsError(
                f"{source} lists no words or phrases. The distress list must never be empty:"
                " put one phrase on each line"
            )
        return cls(tuple(phrases))

    def matches(self, text: str) -> bool:
        """Whether any listed phrase appears in `text` as whole words."""
        padded = _distress_form(text)
        return any(form in padded for form in self._forms)


# --- reading a reply -----------------------------------------------------------------------------


def understand(text: str, asked: Asked, distress: DistressWords) -> Understood:
    """What `text` means, given what our latest message asked. Never raises for any string."""
    clean = normalise(text)
    words = _words(clean)
    if not words:
        return Understood(Intent.OTHER)
    exact = _keyword(words)
    if exact is not None:
        return exact
    if distress.matches(clean):
        return Understood(Intent.OTHER, worrying=True)
    polite = _keyword(_trim(words, _FILLERS))
    if polite is not None:
        return polite
    if asked == Asked.INVITATION:
        return _invitation(words)
    if asked == Asked.CHECK_IN:
        return _check_in(clean)
    return Understood(Intent.OTHER)  # nobody asked, so "yes" or "3" needs a person to read it


def _words(clean: str) -> tuple[str, ...]:
    return tuple(_known_spelling(word) for word in _split(clean))


def _known_spelling(word: str) -> str:
    """'yesss' is 'yes' and 'gooood' is 'good', but only when that is a word we know."""
    if word in _VOCABULARY or not word.isalpha():
        return word
    for squeezed in (re.sub(r"(.)\1{2,}", r"\1\1", word), re.sub(r"(.)\1+", r"\1", word)):
        if squeezed in _VOCABULARY:
            return squeezed
    return word


def _keyword(words: tuple[str, ...]) -> Understood | None:
    intent = _KEYWORDS.get(words)
    if intent is not None:
        return Understood(Intent(intent))
    return _pause(words)


def _pause(words: tuple[str, ...]) -> Understood | None:
    """PAUSE, PAUSE for now, PAUSE 2 weeks, pause for a fortnight, pause a month (30 days)."""
    if words[:1] != ("pause",):
        return None
    rest = words[1:]
    if rest in _PAUSE_UNTIL_THEY_SAY:
        return Understood(Intent.PAUSE)
    if rest[:1] == ("for",):
        rest = rest[1:]
    if len(rest) == 1 and (joined := _COUNT_AND_UNIT.fullmatch(rest[0])):
        rest = joined.groups()
    if not rest or rest[-1] not in _UNIT_DAYS:
        return None
    count = rest[:-1]
    digits = len(count) == 1 and len(count[0]) <= 3 and count[0].isascii() and count[0].isdigit()
    number = int(count[0]) if digits else 0
    days = (number or _PAUSE_COUNTS.get(count, 0)) * _UNIT_DAYS[rest[-1]]
    if not 1 <= days <= MAX_PAUSE_DAYS:
        return None  # "pause 0 days", "pause 2 years": a person reads it
    return Understood(Intent.PAUSE, pause_days=days)


def _trim(words: tuple[str, ...], fillers: frozenset[tuple[str, ...]]) -> tuple[str, ...]:
    """Drop warm words at either end: "please stop thanks x" is "stop"."""
    trimmed = True
    while words and trimmed:
        trimmed = False
        for size in range(min(_LONGEST, len(words)), 0, -1):
            if words[:size] in fillers:
                words, trimmed = words[size:], True
                break
            if words[-size:] in fillers:
                words, trimmed = words[:-size], True
                break
    return words


def _invitation(words: tuple[str, ...]) -> Understood:
    answer = _one_answer(_read(words, _INVITATION, _FILLERS))
    return Understood(answer) if isinstance(answer, Intent) else Understood(Intent.OTHER)


def _check_in(clean: str) -> Understood:
    out_of_five = _out_of_five(clean)
    if out_of_five is None:
        return Understood(Intent.OTHER)
    answer = _one_answer(_read(_words(out_of_five), _CHECK_IN, _CHECK_IN_FILLERS))
    if isinstance(answer, Intent):
        return Understood(answer)
    if answer is None:
        return _leading_score(out_of_five)
    return Understood(Intent.SCORE, score=answer, worrying=answer <= LOW_SCORE)


_LEADING_SCORE = re.compile(r"([1-5])(?:[\s,.;:!)-]+|$)(?!\d)")


def _leading_score(text: str) -> Understood:
    """A number first, then their own words ("2, not a great day"): the number is the
    answer and a person reads the words. Erring towards a human, a low one is worrying."""
    found = _LEADING_SCORE.match(text)
    rest = text[found.end() :] if found is not None else ""
    if found is None or not rest.strip() or _mixed(rest):
        return Understood(Intent.OTHER)
    score = int(found.group(1))
    return Understood(Intent.SCORE, score=score, worrying=score <= LOW_SCORE, more=True)


def _mixed(rest: str) -> bool:
    """Another number or a face after the first number ("3 or 4", "4 😢"): unclear."""
    return any(c.isdigit() or unicodedata.category(c) == "So" for c in rest) or bool(
        {"or", "maybe"} & set(rest.split())
    )


def _out_of_five(clean: str) -> str | None:
    """'3/5' and '3 out of 5' become '3'. Any other scale ('7/10') gives None."""
    other_scale = False

    def numerator(match: re.Match[str]) -> str:
        nonlocal other_scale
        other_scale = other_scale or int(match.group(2)) != 5
        return match.group(1)

    replaced = _FRACTION.sub(numerator, clean)
    return None if other_scale else replaced


def _read(
    words: tuple[str, ...],
    table: Mapping[tuple[str, ...], _Value],
    fillers: frozenset[tuple[str, ...]],
) -> list[tuple[_Value, bool]] | None:
    """Each answer in the reply, longest phrase first, with whether it was an emoji.

    Returns None if any word is neither an answer nor a filler.
    """
    found: list[tuple[_Value, bool]] = []
    at = 0
    while at < len(words):
        for size in range(min(_LONGEST, len(words) - at), 0, -1):
            chunk = words[at : at + size]
            if chunk in table:
                emoji = size == 1 and unicodedata.category(chunk[0][0]) == "So"
                found.append((table[chunk], emoji))
                break
            if chunk in fillers:
                break
        else:
            return None
        at += size
    return found


def _one_answer(found: list[tuple[_Value, bool]] | None) -> _Value | None:
    """The single answer the reply gives, or None if there is none or they disagree.

    A face next to a score may differ from it by one point: "3 👍" is 3, "4 😢" is unclear.
    """
    if not found:
        return None
    values = {value for value, _ in found}
    if len(values) == 1:
        return values.pop()
    said = {value for value, emoji in found if not emoji}
    if len(said) != 1:
        return None
    (main,) = said
    if not isinstance(main, int):  # a score; Intents are strings
        return None
    faces_agree = all(isinstance(value, int) and abs(value - main) <= 1 for value, _ in found)
    return main if faces_agree else None

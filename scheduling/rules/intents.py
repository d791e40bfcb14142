"""What a reply means. Pure reading of text: nothing here sends anything or decides what to do.

People read every reply except a few unambiguous ones, so each rule leans towards
`Intent.OTHER` ("a person reads it"). The order is fixed:
1. A whole-message keyword exactly as typed (STOP, START, PAUSE, HELP, CALL, PAID?, and the
   contact agreement's LATER, LESS, MORE, WHO): plain "help" is HELP.
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
* "cancel" and "end" are STOP, as Twilio treats them; so are "stop texting me", "remove me".
  "resume" and "unpause" are START. Extra letters count ("yesss", "stoppp"); numbers never.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from scheduling.rules.distress import DistressWords
from scheduling.rules.reply_text import normalise, split_words, words_of

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
    PAID = "paid"  # "PAID?": what is owed to them, answered in words safe for the channel
    LATER = "later"  # the contact agreement: not now, the next safe window
    LESS = "less"
    MORE = "more"
    WHO = "who"
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


# --- the tables ----------------------------------------------------------------------------------

_Value: TypeAlias = Intent | int  # an int is a check-in score


def _table(groups: Mapping[_Value, Iterable[str]]) -> dict[tuple[str, ...], _Value]:
    table: dict[tuple[str, ...], _Value] = {}
    for value, texts in groups.items():
        for text in texts:
            key = words_of(text)
            if table.get(key, value) != value:
                raise AssertionError(f"{text!r} is listed with two meanings")
            table[key] = value
    return table


def _phrases(*texts: str) -> frozenset[tuple[str, ...]]:
    return frozenset(words_of(text) for text in texts)


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
        Intent.PAID: (
            *("paid", "payment", "have i been paid", "am i paid", "what am i owed"),
            *("has my payment been sent", "is my payment sent", "payment sent"),
        ),
        Intent.LATER: ("later", "not now", "text me later", "message me later", "not right now"),
        Intent.LESS: ("less", "less often", "fewer messages", "less messages", "fewer texts"),
        Intent.MORE: ("more", "more often", "more messages", "more texts"),
        Intent.WHO: ("who", "who is this", "whos this", "who are you", "who's this", "who is it"),
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
_PAUSE_COUNTS: dict[tuple[str, ...], int] = {
    (word,): n for n, word in enumerate((*_COUNT_WORDS, "eleven", "twelve"), 1)
}
_PAUSE_COUNTS |= {("a",): 1, ("an",): 1}
_PAUSE_COUNTS |= dict.fromkeys(_phrases("a couple of", "couple of", "a couple"), 2)
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "fortnight": 14, "month": 30, "year": 365}
_UNIT_DAYS |= {unit + "s": days for unit, days in _UNIT_DAYS.items()}
_COUNT_AND_UNIT = re.compile(r"([0-9]{1,3})([a-z]+)")  # "2weeks"

_KNOWN = _KEYWORDS.keys() | _INVITATION.keys() | _CHECK_IN.keys() | _CHECK_IN_FILLERS
_KNOWN |= _PAUSE_COUNTS.keys()
_VOCABULARY = frozenset(word for phrase in _KNOWN for word in phrase) | {"pause", "for"}
_VOCABULARY |= _UNIT_DAYS.keys()
_LONGEST = max(len(phrase) for phrase in _KNOWN)

# "3/5" and "3 out of 5" are 3; any other scale ("7/10") is for a person to read.
_FRACTION = re.compile(r"(?<![0-9])([0-9]{1,3}) ?(?:/|out of|outta|of) ?([0-9]{1,3})(?![0-9])")


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
    return tuple(_known_spelling(word) for word in split_words(clean))


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
    if isinstance(intent, Intent):  # the keyword table holds no scores
        return Understood(intent)
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

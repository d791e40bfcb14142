"""How a reply's text is compared: one spelling for quotes, emoji and spaces, then words.

Shared by the reading of intents and the distress list, so both see a reply the same way.
"""

from __future__ import annotations

import re
import unicodedata

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


def split_words(clean: str) -> tuple[str, ...]:
    """Words without apostrophes ("can't" is "cant") and emoji, in order. Punctuation is dropped."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(clean):
        if match.group("word"):
            tokens.append(match.group("word").replace("'", ""))
        elif unicodedata.category(match.group("mark")) == "So":
            tokens.append(match.group("mark"))
    return tuple(tokens)


def words_of(text: str) -> tuple[str, ...]:
    """The words of a written phrase, compared the way a reply's words are."""
    return split_words(normalise(text))

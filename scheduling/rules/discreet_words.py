"""The discreet word list: words that must never show on a channel not safe for details.

Staff keep the list in templates/discreet_blocked_words.txt. The gate checks every final
text against it, generated or typed by staff, because a lock-screen preview is read by
whoever holds the phone. A word matches where a word starts, with any ending ("survivors"),
but not inside another ("rape" is not in "grapes"), so ordinary messages are not stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scheduling.rules.template_files import TEMPLATES
from store.errors import Refused

DEFAULT_BLOCKED_WORDS = TEMPLATES / "discreet_blocked_words.txt"


class BlockedWordsError(Refused):
    """The discreet word list can't be read; the message names the file."""


def _pattern(word: str) -> re.Pattern[str]:
    # A word must start where a word starts ("rape" is not in "grapes"), and may run on
    # ("survivor" is in "survivors"); "£" matches anywhere, as in "£20".
    start = r"(?<!\w)" if word[:1].isalnum() else ""
    return re.compile(start + re.escape(word), re.IGNORECASE)


@lru_cache(maxsize=8)
def _any_of(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for the whole list: whether any word is there at all."""
    return re.compile("|".join(f"(?:{_pattern(w).pattern})" for w in words), re.IGNORECASE)


@dataclass(frozen=True)
class BlockedWords:
    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> BlockedWords:
        lines = (line.strip() for line in text.splitlines())
        return cls(tuple(line.lower() for line in lines if line and not line.startswith("#")))

    @classmethod
    def load(cls, path: Path | None = None) -> BlockedWords:
        source = path or DEFAULT_BLOCKED_WORDS
        try:
            return cls.parse(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise BlockedWordsError(f"{source}: can't read the discreet word list ({exc})") from exc

    def first_in(self, text: str) -> str | None:
        """The first listed word the text contains, or None."""
        folded = text.replace("\u2019", "'")
        if not self.words or not _may_contain(self.words, folded):
            return None
        if not _any_of(self.words).search(folded):
            return None  # the usual answer, from one search rather than one per word
        return next((w for w in self.words if _pattern(w).search(folded)), None)


def _may_contain(words: tuple[str, ...], text: str) -> bool:
    """False only when the search could not find a word: in plain ASCII text a word
    matches only where its letters stand, in either case, so a substring test on the
    lowered text answers "not there" exactly, many times faster than the search (which
    still decides every "maybe", word starts included). Other text is always searched."""
    if not text.isascii():
        return True
    ascii_words = _as_in_ascii(words)
    if ascii_words is None:
        return True
    lowered = text.lower()
    return any(word in lowered for word in ascii_words)


@lru_cache(maxsize=8)
def _as_in_ascii(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """The words that can appear in ASCII text, lowered; None when the substring test
    could miss one (a character outside ASCII that the search matches to an ASCII one,
    like the Kelvin sign to "k"), so every text is searched."""
    found: list[str] = []
    for word in words:
        if word.isascii():
            found.append(word.lower())
        elif any(_matches_ascii(char) for char in word if not char.isascii()):
            return None
        # otherwise (like "£") it cannot be in ASCII text at all
    return tuple(found)


def _matches_ascii(char: str) -> bool:
    """Whether the search, ignoring case, would take ``char`` for some ASCII character."""
    pattern = re.compile(re.escape(char), re.IGNORECASE)
    return any(pattern.fullmatch(chr(code)) for code in range(128))

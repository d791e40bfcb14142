"""The distress list: words that mean a person must look now, kept by staff as a text file.

Matching is on whole words after the reply is normalised, with a few common ways of
writing the same words folded together, so the list need not spell each one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scheduling.rules.reply_text import words_of
from scheduling.rules.template_files import TEMPLATES
from store.errors import Refused

DEFAULT_DISTRESS_WORDS = TEMPLATES / "replies" / "distress_words.txt"


class DistressWordsError(Refused):
    """The distress list can't be used; the message names the file and what to fix."""


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
    padded = " " + " ".join(words_of(text)) + " "
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

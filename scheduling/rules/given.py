"""Whether a person really gave a value: the one test for "filled in".

Forms and old records can hold a box that is blank, only spaces, or the word "None" (a
Python ``None`` that once slipped into a form as text). None of these tells an expert
anything, so completeness, messages and pages all treat them as not given.
"""

from __future__ import annotations

# Words that stand for "nothing here", compared without case or a closing full stop.
_EMPTY_WORDS = frozenset({"none"})


def given(value: object) -> str | None:
    """The text a person typed, trimmed, or None when it says nothing."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text.rstrip(".").strip().lower() in _EMPTY_WORDS:
        return None
    return text


def is_given(value: object) -> bool:
    return given(value) is not None

"""Which characters a person can have typed: the rest are refused at the edges.

A NUL byte or another control character never comes from a keyboard. Stored, it breaks
PostgreSQL (which refuses NUL in text), a CSV export or a letter, so every webhook, staff
form and CSV cell refuses it with a clear answer instead of failing deep inside.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL and lone surrogates (never valid UTF-8); tab, line feed and
# carriage return only where a field holds several lines.
_ANY_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

UNTYPEABLE = (
    "it holds a character that cannot be typed (such as a control character): "
    "remove it and try again"
)


def typeable(text: str, *, multi_line: bool = False) -> bool:
    """True when ``text`` holds only characters a person can type (and, for a multi-line
    field, tabs and line breaks)."""
    return (_MULTI_LINE if multi_line else _ANY_LINE).search(text) is None

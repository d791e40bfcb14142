"""What arrives at a staff page from outside, checked once before any handler runs.

A page's address and form are typed by a person, so a control character (a NUL, an
escape) means a forged or broken request: no keyboard types one, and PostgreSQL cannot
store a NUL. A number too large for any id column is no record. Both are answered here,
for every page, instead of failing deep inside a handler or the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import Request

from bot.services.staff.access import NotFound
from scheduling.rules.characters import typeable
from store.errors import Refused

# The boxes of several lines (textareas): only these may hold line breaks and tabs.
MULTI_LINE_FIELDS = frozenset(
    {
        "reason",
        "note",  # what was said on a call, what was done about a worrying reply
        "support_needs",
        "postal_address",
        "purpose",
        "objectives",
        "expected_outcomes",
        "venue_address",
        "venue_accessibility",
        "meeting_point",
        "practitioners",
        "transport_and_expenses",
        "how_to_claim",
        "paperwork",
        "goodbye",  # their link worker's own words when they leave
    }
)
# Ids are 32-bit integers on PostgreSQL: a larger number in an address is no record.
MAX_ID = 2**31 - 1
_NUMBER = re.compile(r"-?[0-9]+")


class Untypeable(Refused):
    """A form or address holds a character nobody can type."""

    def __init__(self) -> None:
        super().__init__(
            "one of the boxes holds a character that cannot be typed, such as a control "
            "character (line breaks only go in boxes of several lines): remove it and try again"
        )


def check_fields(
    fields: Iterable[tuple[str, Any]], multi_line: frozenset[str] = MULTI_LINE_FIELDS
) -> None:
    """The one place a staff form's text is checked (files are read by their own rules)."""
    for name, value in fields:
        if not typeable(name) or (
            isinstance(value, str) and not typeable(value, multi_line=name in multi_line)
        ):
            raise Untypeable()


def check_address(request: Request) -> None:
    """A path part with a control character, or a number no id column can hold, is no
    record: "not found", never an overflow in the database. A control character in the
    query is refused like one in a form."""
    for value in request.path_params.values():
        text = str(value)
        if not typeable(text) or (_NUMBER.fullmatch(text) and abs(int(text)) > MAX_ID):
            raise NotFound(request.url.path)
    check_fields(request.query_params.multi_items(), frozenset())

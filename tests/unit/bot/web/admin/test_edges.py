"""The one check of a staff page's form: every box of several lines may hold line breaks,
and no other box may."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.web.admin.edges import MULTI_LINE_FIELDS, Untypeable, check_fields
from bot.web.admin.engagements.forms import DETAIL_LABELS

TEMPLATES = Path(__file__).resolve().parents[5] / "bot" / "web" / "templates"
_TEXTAREA = re.compile(r"govukTextarea\(\{.*?'name': '(\w+)'", re.S)


def test_every_textarea_may_hold_line_breaks() -> None:
    named = {m for page in TEMPLATES.rglob("*.html") for m in _TEXTAREA.findall(page.read_text())}
    # The engagement form loops over its details: all but the venue's name are textareas.
    looped = set(DETAIL_LABELS) - {"venue_name"}
    assert named | looped <= MULTI_LINE_FIELDS
    assert "postal_address" in named and "reason" in named  # the pattern finds them


def test_a_line_break_is_refused_in_a_one_line_box_only() -> None:
    check_fields([("postal_address", "1 High St\r\nPerth")])
    with pytest.raises(Untypeable):
        check_fields([("preferred_name", "Ana\nMorrison")])


@pytest.mark.parametrize("field", [("title", "a\x00"), ("reason", "a\x00"), ("ti\x00tle", "a")])
def test_a_nul_is_refused_in_any_box_and_in_a_name(field: tuple[str, str]) -> None:
    with pytest.raises(Untypeable):
        check_fields([field])

"""What counts as typed text: control characters are refused, line breaks only where a
field holds several lines."""

from __future__ import annotations

import pytest

from scheduling.rules.characters import typeable


@pytest.mark.parametrize("text", ["Ana", "Zoë O'Neil", "📞 call me", "", "  spaced  "])
def test_ordinary_text_is_typeable(text: str) -> None:
    assert typeable(text)
    assert typeable(text, multi_line=True)


@pytest.mark.parametrize("text", ["SM\x00abc", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800"])
def test_control_characters_are_refused_everywhere(text: str) -> None:
    assert not typeable(text)
    assert not typeable(text, multi_line=True)


@pytest.mark.parametrize("text", ["line one\nline two", "a\r\nb", "a\tb"])
def test_line_breaks_and_tabs_only_in_multi_line_fields(text: str) -> None:
    assert not typeable(text)
    assert typeable(text, multi_line=True)

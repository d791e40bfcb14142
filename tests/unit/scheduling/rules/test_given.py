"""What counts as a value a person gave: the one test behind "filled in"."""

from __future__ import annotations

import pytest

from scheduling.rules.given import given, is_given


@pytest.mark.parametrize("empty", [None, "", "   ", "None", "none", " NONE. ", "\nNone\n", 3])
def test_blank_and_the_word_none_are_not_given(empty: object) -> None:
    assert given(empty) is None and not is_given(empty)


@pytest.mark.parametrize("text", ["Fares paid", "None of the costs fall on you", "Nothing to sign"])
def test_real_words_are_given_trimmed(text: str) -> None:
    assert given(f"  {text}\n") == text and is_given(text)

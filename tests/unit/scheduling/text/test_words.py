"""Every value of every enum people can see has words, so none reaches a page raw."""

from __future__ import annotations

import pytest

from scheduling.text import words
from store.enums import Channel, Purpose


@pytest.mark.parametrize("enum", list(words._TABLES))
def test_every_value_has_words(enum: type) -> None:
    for value in enum:
        text = words.label(value)
        assert (text and text != value.value.replace("_", " ")) or text.istitle()
        assert "_" not in text and "None" not in text


def test_words_inside_a_sentence_keep_proper_names() -> None:
    assert words.in_sentence(Channel.SMS) == "text message"
    assert words.in_sentence(Channel.TELEGRAM) == "Telegram"
    assert words.label(Purpose.PRE_BRIEF) == "Pre-brief"
    assert words.label(None) == "Not set"

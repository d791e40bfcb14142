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


@pytest.mark.parametrize(
    ("recorded", "read"),
    [
        (
            "sms: preferred channel, consent confirmed 2026-01-05",
            "text message: preferred channel, consent confirmed 2026-01-05",
        ),
        (
            "telegram skipped: no contact details; email: fallback 1",
            "Telegram skipped: no contact details; email: fallback 1",
        ),
        (
            "outside their safe hours for sms; held until Monday at 9am",
            "outside their safe hours for text message; held until Monday at 9am",
        ),
        ("phone skipped: would not arrive in time", "phone call skipped: would not arrive in time"),
        # A channel's word used as a word, not a value, is left alone.
        ("they asked for a letter by post", "they asked for a letter by post"),
        ("", ""),
        (None, ""),
    ],
)
def test_recorded_reasons_read_with_the_channels_in_words(recorded: str | None, read: str) -> None:
    assert words.reason_in_words(recorded) == read

"""Every email and letter tells its reader how to answer and how to ask for large print or
another format: by replying to the email, or by the number people ring or text (without one,
a letter says to tell the person who signed it). Discreet wording holds either way."""

from __future__ import annotations

import pytest

from scheduling.text.rendering import Renderer
from store.enums import Channel, Purpose
from tests.unit.scheduling.text.test_templates import CONTEXT, blocked_words

NUMBER = "0131 496 0000"
CASES = [(p, c) for p in Purpose for c in (Channel.EMAIL, Channel.LETTER)]


@pytest.mark.parametrize(("purpose", "channel"), CASES)
@pytest.mark.parametrize("details", [True, False])
def test_the_reader_is_told_how_to_answer_and_ask_for_another_format(
    purpose: Purpose, channel: Channel, details: bool
) -> None:
    for phone in (NUMBER, None):
        body = (
            Renderer(reply_phone=phone)
            .render(purpose, channel, {**CONTEXT, "details": details})
            .body
        )
        flat = " ".join(body.split())
        assert "To answer" in flat and "large print" in flat and "another format" in flat
        if channel is Channel.EMAIL:
            assert "reply to this email" in flat
        if phone:
            assert NUMBER in flat
        elif channel is Channel.LETTER:
            assert "tell Sam when you next speak" in flat
        if not details:
            visible = body.lower()
            assert [w for w in blocked_words() if w in visible] == []

"""A sentence that promises a follow-up always declares it, so the ledger can never miss
one; and when nothing could keep it, no message makes it."""

from __future__ import annotations

import re

import pytest

from scheduling.text.rendering import Renderer
from store.enums import Channel, Purpose
from tests.unit.scheduling.text.test_templates import CONTEXT, SENDABLE

# Words that commit us to doing something later. A new template that says one of these
# without `{{ promise("...") }}` beside it fails here.
PROMISING = re.compile(
    r"I'll send|I will send|go over the details|love to tell you|will be paid back|"
    r"I'll be in touch|I will be in touch",
    re.IGNORECASE,
)
CASES = [
    (purpose, channel, details, about_outcomes)
    for purpose in Purpose
    for channel in SENDABLE
    for details in (True, False)
    for about_outcomes in (True, False)
]


@pytest.mark.parametrize(("purpose", "channel", "details", "about_outcomes"), CASES)
def test_every_promise_in_a_message_is_declared(
    purpose: Purpose, channel: Channel, details: bool, about_outcomes: bool
) -> None:
    context = {**CONTEXT, "details": details, "about_outcomes": about_outcomes}
    rendered = Renderer().render(purpose, channel, context)
    text = f"{rendered.subject or ''}\n{rendered.body}"
    if PROMISING.search(text):
        assert rendered.promises, f"{purpose.value}/{channel.value} promises without declaring"
    else:
        assert not rendered.promises


@pytest.mark.parametrize(("purpose", "channel", "details", "about_outcomes"), CASES)
def test_nothing_is_promised_that_nothing_could_keep(
    purpose: Purpose, channel: Channel, details: bool, about_outcomes: bool
) -> None:
    context = {
        **CONTEXT,
        "details": details,
        "about_outcomes": about_outcomes,
        "follow_up": False,
    }
    rendered = Renderer().render(purpose, channel, context)
    assert set(rendered.promises) <= {"costs"}  # costs are kept by a person, always


def test_a_discreet_pre_brief_text_declares_the_details_promise() -> None:
    rendered = Renderer().render(Purpose.PRE_BRIEF, Channel.SMS, {**CONTEXT, "details": False})
    assert rendered.promises == ("details",)
    assert "promise" not in rendered.body

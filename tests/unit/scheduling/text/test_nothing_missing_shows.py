"""Every message template, with every optional detail missing, reads as whole sentences:
no "None", no template code, no heading or "Where:" left empty. A required detail that is
missing stops the message with a clear error instead of printing nothing or "None"."""

from __future__ import annotations

import re
from itertools import product
from typing import Any

import pytest

from scheduling.text.rendering import Renderer, RenderError
from store.enums import Channel, Purpose

GIVEN: dict[str, Any] = {
    "name": "Ana",
    "worker": "Sam",
    "title": "First contact workshop",
    "when": "Tuesday 3 March at 2pm",
    "day": "Tuesday 3 March",
    "ends": "4pm",
    "day_of_meeting": "Tuesday",
    "purpose": "Help shape first calls.",
    "objectives": "Hear what helped.",
    "expected_outcomes": "A short list of changes.",
    "venue_name": "Leith Community Centre",
    "venue_address": "12 Example Street, Edinburgh EH6 1AA",
    "venue_accessibility": "Step-free",
    "online_link": "https://example.org/join",
    "meeting_point": "Sam will meet you at the door.",
    "practitioners": "Two people from the service.",
    "transport_and_expenses": "Bus fares are paid.",
    "how_to_claim": "Give Sam your receipts.",
    "paperwork": "Notes come a week before.",
    "outcomes": "the service now opens on Saturdays.",
    "note": "Hope the new flat is going well.",
    "ask_answer": True,
    "follow_up": True,
    "about_outcomes": False,
    "amount": "£25.00",
    "offer": "You will be paid £25.00 for your time.",
    "channels": "text message, or else letter",
    "safe_times": "Monday to Friday, 9am to 8pm",
    "keeping_in_touch": "about once a month",
}
# Details a message may go without: templates show them only when they are there.
OPTIONAL = (
    "objectives",
    "expected_outcomes",
    "venue_name",
    "venue_address",
    "venue_accessibility",
    "online_link",
    "meeting_point",
    "how_to_claim",
    "note",
    "offer",
)
# Details a message cannot go without: missing, the message is stopped for a person.
REQUIRED = tuple(
    k for k in GIVEN if k not in OPTIONAL and k not in ("ask_answer", "follow_up", "about_outcomes")
)
CHANNELS = [Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER, Channel.PHONE]
EVERY = list(product(Purpose, CHANNELS, (True, False), (0, 1, 2)))
MISSING_SETS = [("all", OPTIONAL), *((name, (name,)) for name in OPTIONAL)]
RENDERER = Renderer()  # one environment: each template is compiled once
HEADINGS = ("What it's for", "When", "Where", "Who will be there", "Travel and expenses", "Papers")


def _problems(text: str) -> list[str]:
    """Everything in a message that shows a value was missing."""
    found = []
    if re.search(r"\bNone\b", text):
        found.append("None")
    if "{{" in text or "{%" in text or "}}" in text:
        found.append("template code")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.endswith(":") and not stripped.lower().startswith("subject"):
            found.append(f"empty line {stripped!r}")
        if re.search(r"(^|[:(]\s*),|,\s*[,.]|\s{2,}\S|\(\s*\)", stripped):
            found.append(f"a gap in {stripped!r}")
        if stripped in HEADINGS and (i + 1 >= len(lines) or not lines[i + 1].strip()):
            found.append(f"empty heading {stripped!r}")
    return found


@pytest.mark.parametrize(("purpose", "channel", "details", "variant"), EVERY)
def test_every_template_reads_whole_with_every_optional_detail_missing(
    purpose: Purpose, channel: Channel, details: bool, variant: int
) -> None:
    for label, missing in MISSING_SETS:
        context = {**GIVEN, "details": details, "variant": variant}
        context.update(dict.fromkeys(missing))
        if purpose is Purpose.WRITTEN and "note" in missing:
            # Staff's own words are the whole message: without them nothing goes.
            with pytest.raises(RenderError, match="could not be written"):
                RENDERER.render(purpose, channel, context)
            continue
        rendered = RENDERER.render(purpose, channel, context)
        text = f"{rendered.subject or ''}\n{rendered.body}"
        assert _problems(text) == [], f"{purpose.value}/{channel.value} without {label}:\n{text}"


@pytest.mark.parametrize(("purpose", "channel"), list(product(Purpose, CHANNELS)))
@pytest.mark.parametrize("empty", [None, "None", " None "])
def test_a_required_detail_missing_stops_the_message_instead_of_showing_none(
    purpose: Purpose, channel: Channel, empty: str | None
) -> None:
    for name, details in product(REQUIRED, (True, False)):
        context = {**GIVEN, "details": details, "variant": 0, name: empty}
        try:
            rendered = RENDERER.render(purpose, channel, context)
        except RenderError as exc:
            assert "could not be written" in str(exc)
            assert "None" not in str(exc)
            continue
        text = f"{rendered.subject or ''}\n{rendered.body}"
        assert "None" not in text, f"{purpose.value}/{channel.value} without {name}"


def test_the_refusal_names_the_missing_detail_in_plain_words() -> None:
    context = {**GIVEN, "details": True, "variant": 0, "transport_and_expenses": None}
    with pytest.raises(RenderError, match="the transport and expenses is not filled in"):
        RENDERER.render(Purpose.PRE_BRIEF, Channel.EMAIL, context)


def test_a_none_from_an_expression_is_refused_too() -> None:
    """Not just the context's own values: anything printed that is None."""
    from jinja2 import DictLoader

    renderer = Renderer()
    renderer._env.loader = DictLoader({"x.txt": "Hi {{ people.get('nobody') }}"})
    with pytest.raises(RenderError, match="a detail it needs is not filled in"):
        renderer.render_named("x.txt", {"people": {}})


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("replies/pause.txt", {"name": "Ana", "worker": "Sam", "until": None}),
        ("alerts/urgent_reply.txt", {"staff": "Sam", "link": None}),
        ("alerts/overdue_reply.txt", {"staff": "Sam", "link": None}),
        ("alerts/overdue_promise.txt", {"staff": "Sam", "link": None}),
    ],
)
def test_answers_and_alerts_read_whole_without_their_optional_parts(
    name: str, context: dict[str, Any]
) -> None:
    rendered = RENDERER.render_named(name, context)
    assert _problems(f"{rendered.subject or ''}\n{rendered.body}") == []

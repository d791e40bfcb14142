"""Every template renders, reads plainly, and says nothing revealing in discreet mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scheduling.text.rendering import DEFAULT_TEMPLATE_DIR, Renderer
from store.enums import Channel, Purpose

CONTEXT = {
    "name": "Ana",
    "worker": "Sam",
    "title": "Domestic abuse survivors' panel",  # deliberately revealing: must stay hidden
    "when": "Tuesday 3 March at 2pm",
    "day": "Tuesday 3 March",
    "ends": "4pm",
    "day_of_meeting": "Tuesday",
    "purpose": "Recovery support design",
    "objectives": "x",
    "expected_outcomes": "x",
    "venue_name": "Women's Aid office",
    "venue_address": "1 Street, Town AB1 2CD",
    "venue_accessibility": "Step-free",
    "online_link": "",
    "meeting_point": "At the door",
    "practitioners": "Two people",
    "transport_and_expenses": "Fares paid",
    "how_to_claim": "Receipts",
    "paperwork": "Nothing to read or sign.",
    "outcomes": "the recovery service now opens on Saturdays.",
    "variant": 0,
    "note": "",
    "ask_answer": True,
    "follow_up": True,
    "about_outcomes": False,
    "amount": "£25.00",
    "offer": "You will be paid £25.00 for your time.",
    # A welcome and "how we'll contact you": the contact agreement in their words.
    "channels": "text message, or else letter",
    "safe_times": "Monday to Friday, 9am to 8pm",
    "keeping_in_touch": "about once a month",
}
SENDABLE = [Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER]
ALL = [(p, c) for p in Purpose for c in [*SENDABLE, Channel.PHONE]]


def blocked_words() -> list[str]:
    text = (DEFAULT_TEMPLATE_DIR / "discreet_blocked_words.txt").read_text(encoding="utf-8")
    return [w.strip().lower() for w in text.splitlines() if w.strip() and not w.startswith("#")]


@pytest.mark.parametrize(("purpose", "channel"), ALL)
def test_every_purpose_has_a_template_for_every_channel(purpose: Purpose, channel: Channel) -> None:
    # A staff-written message is only the staff's words: give it some.
    words = {"note": "See you soon."} if purpose is Purpose.WRITTEN else {}
    for details in (True, False):
        rendered = Renderer().render(purpose, channel, {**CONTEXT, **words, "details": details})
        assert rendered.body.strip()
        assert "{{" not in rendered.body and "{%" not in rendered.body


@pytest.mark.parametrize(("purpose", "channel"), [(p, c) for p in Purpose for c in SENDABLE])
def test_discreet_messages_reveal_nothing_someone_else_could_read(
    purpose: Purpose, channel: Channel
) -> None:
    rendered = Renderer().render(purpose, channel, {**CONTEXT, "details": False})
    visible = f"{rendered.subject or ''}\n{rendered.body}".lower()
    found = [w for w in blocked_words() if w in visible]
    assert found == [], f"{purpose.value}/{channel.value} shows {found}"


@pytest.mark.parametrize("purpose", list(Purpose))
def test_text_messages_fit_in_a_few_segments(purpose: Purpose) -> None:
    for channel in (Channel.SMS, Channel.TELEGRAM):
        body = Renderer().render(purpose, channel, {**CONTEXT, "details": False}).body
        assert len(body) <= 320, f"{purpose.value}/{channel.value}: {len(body)} characters"


@pytest.mark.parametrize("path", sorted(DEFAULT_TEMPLATE_DIR.rglob("*.txt")), ids=str)
def test_sentences_are_short_and_plain(path: Path) -> None:
    text = re.sub(r"{[{%].*?[%}]}", "x", path.read_text(encoding="utf-8"))
    for sentence in re.split(r"[.!?:\n]", text):
        assert len(sentence.split()) <= 25, f"long sentence in {path.name}: {sentence!r}"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(ValueError, match="could not be used"):
        Renderer().render(Purpose.PRE_BRIEF, Channel.SMS, {"details": False})


ANSWERS = sorted(
    p.stem for p in (DEFAULT_TEMPLATE_DIR / "replies").glob("*.txt") if p.stem != "distress_words"
)
# Strangers learn nothing, not even whose number this is; the line about an email's
# attachments is added to an answer that is signed, never sent alone.
UNSIGNED = {"stranger", "stranger_worrying", "link_refused", "email_attachments"}


@pytest.mark.parametrize("name", ANSWERS)
def test_every_answer_is_short_signed_by_the_worker_and_reveals_nothing(name: str) -> None:
    from datetime import UTC, datetime

    from scheduling.rules.support_lines import load_support_lines, open_now

    # Tuesday 11pm: Breathing Space and Rape Crisis closed or open, the longest list either way.
    lines = open_now(load_support_lines(), datetime(2026, 3, 3, 23, 0, tzinfo=UTC))
    danger = next(line for line in lines if line.for_immediate_danger)
    context = {
        "name": "Ana",
        "worker": "Sam",
        "until": "Monday 16 March",
        "place": "chat",
        "when": "Wednesday 4 March at 9am",
        "level": "about once a month",
        "changed": True,
        "lines": [line for line in lines if line is not danger],
        "danger": danger,
        "details": True,
        "waiting": True,
        "owed": "£31.40",
        "last_paid": "£6.40 on Tuesday 3 March",
    }
    body = Renderer().render_named(f"replies/{name}.txt", context).body
    assert len(body) <= (640 if "worrying" in name else 200), f"{name}: {len(body)} characters"
    assert bool(re.search(r"\bSam\b", body)) is (name not in UNSIGNED)
    helplines = " ".join(line.name.lower() for line in lines)
    # The answer to PAID? gives the amount, but only on a channel safe for details.
    amounts = {"£"} if name == "paid" else set()
    found = [
        w for w in blocked_words() if w in body.lower() and w not in helplines and w not in amounts
    ]
    assert found == [], f"replies/{name} shows {found}"


@pytest.mark.parametrize("name", ANSWERS)
def test_an_answer_on_a_channel_not_safe_for_details_names_no_service(name: str) -> None:
    from datetime import UTC, datetime

    from scheduling.rules.support_lines import load_support_lines, open_now

    # Tuesday 8pm: Rape Crisis Scotland and Breathing Space are open as well.
    lines = open_now(load_support_lines(), datetime(2026, 3, 3, 20, 0, tzinfo=UTC))
    danger = next(line for line in lines if line.for_immediate_danger)
    context = {
        "name": "Ana",
        "worker": "Sam",
        "until": "Monday 16 March",
        "place": "chat",
        "when": "Wednesday 4 March at 9am",
        "level": "about once a month",
        "changed": True,
        "lines": [line for line in lines if line is not danger],
        "danger": danger,
        "details": False,
        "waiting": True,
        "owed": "£31.40",
        "last_paid": "£6.40 on Tuesday 3 March",
    }
    body = Renderer().render_named(f"replies/{name}.txt", context).body
    assert [line.name for line in lines if line.name in body] == []
    assert [w for w in blocked_words() if w in body.lower()] == []
    if name == "free_text":
        assert "Sam" not in body  # the worker is named only where details are safe

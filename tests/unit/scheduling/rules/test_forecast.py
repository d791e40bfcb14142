"""The forecast staff read on every page that lists planned messages: the dispatcher's own
rules applied ahead of time. A message that will not go says why, and one about nothing in
particular (keeping in touch) is forecast like any other."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from channels.registry import ChannelRegistry
from scheduling.rules.forecast import expected_plan
from scheduling.rules.frequency import FrequencyCap
from store.enums import Channel, ExpertStatus, MessageStatus, Purpose
from store.models import Engagement, Expert, Message
from tests.unit.scheduling.rules.test_router import NOW, dry_run_registry, expert

CAP = FrequencyCap(1, 3)


def _message(purpose: Purpose, in_hours: float, **extra: object) -> Message:
    due = NOW + timedelta(hours=in_hours)
    return Message(
        id=extra.pop("id", 1),
        expert_id=1,
        engagement_id=extra.pop("engagement_id", None),
        purpose=purpose,
        idempotency_key=f"k{purpose.value}{in_hours}",
        due_at=due,
        next_attempt_at=due,
        not_after=extra.pop("not_after", None),
        status=MessageStatus.PENDING,
        needs_approval=extra.pop("needs_approval", False),
        approved_at=None,
        **extra,
    )


def _person() -> Expert:
    person = expert([Channel.SMS])
    person.time_zone = "Europe/London"
    person.status = ExpertStatus.ACTIVE
    person.paused_until = None
    person.held_since = None
    person.windows = []
    person.contact_on_bank_holidays = True
    return person


def _forecast(
    tmp_path: Path, messages: list[Message], person: Expert, **engagements: Engagement
) -> list[str]:
    channels: ChannelRegistry = dry_run_registry(tmp_path)
    by_id = {e.id: e for e in engagements.values()}
    return [e.note for e in expected_plan(messages, person, by_id, channels, CAP, [], NOW)]


def test_a_keeping_in_touch_message_is_forecast_without_an_engagement(tmp_path: Path) -> None:
    rows = expected_plan(
        [_message(Purpose.PASTORAL, 1)], _person(), {}, dry_run_registry(tmp_path), CAP, [], NOW
    )
    assert rows[0].channel is Channel.SMS and rows[0].goes_at is not None
    assert not rows[0].late


def test_a_draft_awaiting_approval_says_so(tmp_path: Path) -> None:
    notes = _forecast(tmp_path, [_message(Purpose.PASTORAL, 1, needs_approval=True)], _person())
    assert notes == ["Waits for their link worker to approve it"]


def test_a_pause_stops_all_but_essential_news(tmp_path: Path) -> None:
    person = _person()
    person.paused_until = date(2026, 4, 30)
    notes = _forecast(
        tmp_path,
        [_message(Purpose.PASTORAL, 1), _message(Purpose.CANCELLATION, 2, id=2)],
        person,
    )
    assert notes[0] == "Will not be sent while their contact is paused"
    assert "paused" not in notes[1]


def test_a_hold_after_a_worrying_reply_is_said(tmp_path: Path) -> None:
    person = _person()
    person.held_since = NOW
    assert (
        "On hold after a worrying reply"
        in _forecast(tmp_path, [_message(Purpose.PASTORAL, 1)], person)[0]
    )


def test_the_cap_holds_the_second_message_of_the_day(tmp_path: Path) -> None:
    rows = expected_plan(
        [_message(Purpose.PASTORAL, 1), _message(Purpose.FEEDBACK, 2, id=2)],
        _person(),
        {},
        dry_run_registry(tmp_path),
        CAP,
        [],
        NOW,
    )
    assert rows[1].goes_at is not None and rows[0].goes_at is not None
    assert rows[1].goes_at.date() > rows[0].goes_at.date()
    assert "Held back by the limit on messages" in rows[1].note

"""How long a reply may wait for a person: working days, bank holidays and the clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from channels.working_days import is_working_day
from scheduling.people.reply_escalation import AckLimits, ack_deadline

LONDON = ZoneInfo("Europe/London")
ONE_DAY = AckLimits(office_tz="Europe/London")


def _london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def test_a_reply_on_friday_afternoon_is_due_on_monday_afternoon() -> None:
    friday = _london(2026, 3, 6, 16, 0)
    assert ack_deadline(friday, False, ONE_DAY).astimezone(LONDON) == datetime(
        2026, 3, 9, 16, 0, tzinfo=LONDON
    )


def test_christmas_and_boxing_day_are_not_working_days() -> None:
    christmas_eve = _london(2026, 12, 24, 10, 0)
    due = ack_deadline(christmas_eve, False, ONE_DAY).astimezone(LONDON)
    assert due.date().isoformat() == "2026-12-29"  # 25, 26 (Sat), 27 (Sun), 28 (Boxing Day)


def test_a_worrying_reply_is_due_within_the_hour_whatever_the_day() -> None:
    sunday_night = _london(2026, 3, 8, 23, 30)
    assert ack_deadline(sunday_night, True, ONE_DAY) == sunday_night + timedelta(hours=1)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=5),
)
def test_the_deadline_falls_on_a_working_day_at_least_that_many_days_later(
    received: datetime, days: int
) -> None:
    due = ack_deadline(received, False, AckLimits(working_days=days, office_tz="Europe/London"))
    assert due - received >= timedelta(days=days) - timedelta(hours=1)  # a clock change
    assert is_working_day(due.astimezone(LONDON).date())

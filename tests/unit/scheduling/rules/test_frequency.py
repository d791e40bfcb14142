"""The frequency cap, over many histories and across the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.rules.frequency import WEEK, CapError, FrequencyCap, next_within_cap

LONDON = ZoneInfo("Europe/London")
TZ = "Europe/London"


def _local_day_count(sent: list[datetime], moment: datetime) -> int:
    day = moment.astimezone(LONDON).date()
    return sum(1 for t in sent if t.astimezone(LONDON).date() == day)


def test_a_second_message_on_the_same_day_waits_for_tomorrow_on_their_clock() -> None:
    sent = [datetime(2026, 3, 28, 10, 0, tzinfo=UTC)]  # Saturday; the clocks go forward tonight
    now = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
    allowed = next_within_cap(sent, now, TZ, FrequencyCap(per_day=1, per_week=3))
    assert allowed == datetime(2026, 3, 29, 0, 0, tzinfo=LONDON).astimezone(UTC)


def test_a_fourth_message_in_seven_days_waits_until_the_oldest_is_a_week_old() -> None:
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    sent = [start, start + timedelta(days=1), start + timedelta(days=2)]
    now = start + timedelta(days=3)
    allowed = next_within_cap(sent, now, TZ, FrequencyCap(per_day=1, per_week=3))
    assert allowed == start + WEEK


def test_nothing_recent_means_now() -> None:
    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    old = [now - timedelta(days=30)]
    assert next_within_cap(old, now, TZ, FrequencyCap()) == now


@pytest.mark.parametrize(("per_day", "per_week"), [(0, 3), (2, 1), (1, 0)])
def test_a_cap_that_allows_nothing_or_contradicts_itself_is_refused(
    per_day: int, per_week: int
) -> None:
    with pytest.raises(CapError):
        FrequencyCap(per_day=per_day, per_week=per_week)


# Around both 2026 clock changes in London, so local midnights of 23 and 25 hours occur.
moments = st.datetimes(
    min_value=datetime(2026, 3, 20), max_value=datetime(2026, 11, 5), timezones=st.just(UTC)
).filter(lambda d: not (datetime(2026, 4, 5, tzinfo=UTC) < d < datetime(2026, 10, 18, tzinfo=UTC)))


@settings(max_examples=300, deadline=None)
@given(
    now=moments,
    gaps=st.lists(st.integers(min_value=1, max_value=60 * 24 * 8), max_size=8),
    per_day=st.integers(1, 3),
    extra=st.integers(0, 4),
)
def test_the_answer_keeps_within_both_caps_and_is_never_early(
    now: datetime, gaps: list[int], per_day: int, extra: int
) -> None:
    cap = FrequencyCap(per_day=per_day, per_week=per_day + extra)
    sent = sorted(now - timedelta(minutes=g) for g in gaps)
    allowed = next_within_cap(sent, now, TZ, cap)
    assert allowed >= now
    assert _local_day_count(sent, allowed) < cap.per_day
    assert sum(1 for t in sent if t > allowed - WEEK) < cap.per_week
    if allowed > now:  # it waited: sending now would have broken a cap
        broke_day = _local_day_count(sent, now) >= cap.per_day
        broke_week = sum(1 for t in sent if t > now - WEEK) >= cap.per_week
        assert broke_day or broke_week

"""The contact plan's rules, over many engagement times and offsets."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.rules.plan import PlanError, PlanOffsets, check_engagement_times, plan_invitation
from store.enums import Purpose

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def test_default_plan_is_pre_brief_reminder_check_in_and_a_de_brief_a_few_days_after() -> None:
    start = datetime(2026, 3, 31, 10, 0, tzinfo=LONDON)  # after the clocks go forward
    plan = plan_invitation(
        start, start + timedelta(hours=2), "Europe/London", PlanOffsets(), now=NOW
    )
    local = [(p.purpose, p.due_at.astimezone(LONDON)) for p in plan]
    assert local == [
        (Purpose.PRE_BRIEF, datetime(2026, 3, 24, 10, 0, tzinfo=LONDON)),
        (Purpose.REMINDER, datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)),
        (Purpose.CHECK_IN, datetime(2026, 4, 1, 10, 0, tzinfo=LONDON)),
        (Purpose.DE_BRIEF, datetime(2026, 4, 3, 10, 0, tzinfo=LONDON)),
    ]


def test_invited_late_the_pre_brief_goes_now_and_no_reminder_follows_straight_after() -> None:
    start = NOW + timedelta(hours=30)
    plan = plan_invitation(
        start, start + timedelta(hours=2), "Europe/London", PlanOffsets(), now=NOW
    )
    assert [p.purpose for p in plan] == [Purpose.PRE_BRIEF, Purpose.CHECK_IN, Purpose.DE_BRIEF]
    assert plan[0].due_at == NOW


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pre_brief_days": 0}, "at least 1 day before"),
        ({"pre_brief_days": -2}, "at least 1 day before"),
        ({"reminder_days": 7}, "reminder must come after the pre-brief"),
        ({"check_in_days": 45}, "between 0 and 30"),
        ({"check_in_days": 3}, "de-brief must come after the check-in"),
        ({"de_brief_days": 0}, "between 1 and 30"),
        ({"send_at": "03:00"}, "daytime hour"),
        ({"send_at": "25:00"}, "time like 10:00"),
        ({"pre_brief_days": "soon"}, "whole number"),
        ({"colour": "blue"}, "unknown plan setting"),
    ],
)
def test_contradictory_plan_settings_are_refused_when_saved(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(PlanError, match=message):
        PlanOffsets().with_overrides(overrides)


def test_an_engagement_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(PlanError, match="must end after it starts"):
        check_engagement_times(NOW, NOW - timedelta(hours=1), "Europe/London")


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(PlanError, match="unknown time zone"):
        check_engagement_times(NOW, NOW + timedelta(hours=1), "Europe/Lundun")


starts = st.datetimes(
    min_value=datetime(2026, 1, 13), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
offsets = st.builds(
    PlanOffsets,
    pre_brief_days=st.integers(2, 30),
    reminder_days=st.just(1),
    check_in_days=st.integers(0, 10),
    de_brief_days=st.integers(11, 20),
    send_at=st.times(min_value=time(8), max_value=time(19)),
)


@settings(max_examples=300, deadline=None)
@given(start=starts, length=st.integers(30, 600), plan_offsets=offsets)
def test_plans_keep_their_order_and_nothing_before_the_meeting_lands_after_it(
    start: datetime, length: int, plan_offsets: PlanOffsets
) -> None:
    end = start + timedelta(minutes=length)
    plan = plan_invitation(start, end, "Europe/London", plan_offsets, now=NOW)
    dues = [p.due_at for p in plan]
    assert dues == sorted(dues)
    for planned in plan:
        assert planned.due_at >= NOW
        if planned.purpose in (Purpose.PRE_BRIEF, Purpose.REMINDER):
            assert planned.due_at < start and planned.not_after == start
        if planned.purpose in (Purpose.CHECK_IN, Purpose.DE_BRIEF):
            assert planned.due_at > end
    assert len({p.purpose for p in plan}) == len(plan)
    again = plan_invitation(start, end, "Europe/London", plan_offsets, now=NOW)
    assert again == plan  # planning is a pure function: same input, same plan

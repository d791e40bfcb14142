"""Plans from what someone's channels can do, calls due while they still help, and the
cap that never moves a reminder onto the day: pure rules, over many times and settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.dryrun import DryRunChannel
from channels.registry import DEFAULT_LIMITS, SENDABLE, ChannelRegistry
from scheduling.rules.decisions import Finish, Limits, Send, decide
from scheduling.rules.frequency import FrequencyCap, lands_on_the_day
from scheduling.rules.plan import PlanOffsets, plan_invitation
from scheduling.rules.reach import Reach, call_by
from store.enums import Channel, EngagementStatus, ExpertStatus, MessageStatus, Purpose
from store.models import ChannelConsent, ContactPoint, Engagement, Expert, Message

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
REACHES = st.sampled_from([Reach(), Reach(post_only=True), Reach(post_only=True, phone=True)])


@st.composite
def offsets(draw: st.DrawFn) -> PlanOffsets:
    pre = draw(st.integers(2, 21))
    check_in = draw(st.integers(0, 10))
    return PlanOffsets(
        pre_brief_days=pre,
        reminder_days=draw(st.integers(1, pre - 1)),
        check_in_days=check_in,
        de_brief_days=draw(st.integers(check_in + 1, 30)),
        send_at=time(draw(st.integers(7, 21))),
    )


starts = st.datetimes(
    min_value=datetime(2026, 1, 13), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(offsets(), starts, st.integers(1, 60 * 12), REACHES)
def test_check_in_and_de_brief_are_always_at_least_a_day_apart(
    plan_offsets: PlanOffsets, start: datetime, minutes: int, reach: Reach
) -> None:
    plan = plan_invitation(
        start, start + timedelta(minutes=minutes), "Europe/London", plan_offsets,
        now=NOW, reach=reach,
    )  # fmt: skip
    by = {p.purpose: p for p in plan}
    check_in, de_brief = by[Purpose.CHECK_IN], by[Purpose.DE_BRIEF]
    assert de_brief.due_at - check_in.due_at >= timedelta(days=1)
    # However long the check-in is held, its deadline comes a day before the de-brief.
    assert check_in.not_after is not None
    assert check_in.due_at <= check_in.not_after <= de_brief.due_at - timedelta(days=1)
    if reach.post_only:
        assert Purpose.REMINDER not in by  # the pre-brief letter carries it
    if reach.post_only and not reach.phone:
        assert check_in.not_after - check_in.due_at >= timedelta(days=7)  # time for the post


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([Purpose.PRE_BRIEF, Purpose.TIME_CHANGED, Purpose.CANCELLATION]),
    st.integers(0, 60 * 24 * 14),
)
def test_a_call_is_due_before_it_is_too_late_and_never_in_the_past(
    purpose: Purpose, minutes_left: int
) -> None:
    deadline = NOW + timedelta(minutes=minutes_left)
    due = call_by(purpose, deadline, NOW)
    assert due >= NOW
    if minutes_left >= 2 * 60:
        assert due <= deadline - timedelta(hours=2)
    if purpose is Purpose.PRE_BRIEF and deadline - NOW >= timedelta(days=1, hours=4):
        assert due == deadline - timedelta(days=1)  # the day before: time to plan
    if purpose.essential:
        assert due <= NOW + timedelta(hours=4)  # news is urgent


def _registry(folder: Path) -> ChannelRegistry:
    return ChannelRegistry(
        DryRunChannel(k, folder / k.value, DEFAULT_LIMITS[k], postal_tz="Europe/London")
        for k in SENDABLE
    )


def _reminder(starts_at: datetime, due: datetime) -> Message:
    expert = Expert(
        preferred_channel=Channel.SMS,
        fallback_channels=[],
        time_zone="Europe/London",
        status=ExpertStatus.ACTIVE,
        discreet=True,
        contact_on_bank_holidays=True,
    )
    expert.consents = [
        ChannelConsent(channel=Channel.SMS, allowed=True, confirmed_on=date(2026, 1, 5))
    ]
    expert.contact_points = [
        ContactPoint(
            channel=Channel.SMS, value="+447123456789", verified_at=NOW - timedelta(days=9)
        )
    ]
    expert.windows = []
    engagement = Engagement(starts_at=starts_at, status=EngagementStatus.PUBLISHED)
    message = Message(
        purpose=Purpose.REMINDER, due_at=due, next_attempt_at=due, not_after=starts_at,
        status=MessageStatus.SENDING, needs_approval=False,
    )  # fmt: skip
    message.expert, message.engagement, message.attempts_log = expert, engagement, []
    return message


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(0, 400),  # days after NOW the engagement is
    st.integers(10, 18),  # the reminder's hour, the day before
    st.lists(st.integers(1, 7 * 24 * 60), max_size=6),  # minutes before it, capped sends
    st.sampled_from([FrequencyCap(1, 3), FrequencyCap(1, 1), FrequencyCap(2, 5)]),
)
def test_the_cap_never_moves_a_reminder_onto_the_day_of_the_engagement(
    tmp_path: Path, days: int, hour: int, earlier: list[int], cap: FrequencyCap
) -> None:
    event_day = (NOW + timedelta(days=days + 2)).astimezone(LONDON).date()
    starts_at = datetime.combine(event_day, time(14), tzinfo=LONDON).astimezone(UTC)
    due = datetime.combine(event_day - timedelta(days=1), time(hour), tzinfo=LONDON)
    message = _reminder(starts_at, due.astimezone(UTC))
    recent = [message.due_at - timedelta(minutes=m) for m in earlier]
    decision = decide(message, _registry(tmp_path), Limits(cap=cap), message.due_at, recent)
    if isinstance(decision, Finish) and decision.defer_until is not None:
        assert decision.defer_until.astimezone(LONDON).date() < event_day
    else:
        assert isinstance(decision, Send)


def test_lands_on_the_day_is_about_the_event_day_in_their_own_zone() -> None:
    event = datetime(2026, 3, 31, 9, 30, tzinfo=UTC)  # 10:30 in London (summer time)
    evening_before = datetime(2026, 3, 30, 20, 0, tzinfo=UTC)
    assert lands_on_the_day(
        datetime(2026, 3, 30, 23, 30, tzinfo=UTC), evening_before, event, "Europe/London"
    )
    assert not lands_on_the_day(
        datetime(2026, 3, 30, 22, 30, tzinfo=UTC), evening_before, event, "Europe/London"
    )

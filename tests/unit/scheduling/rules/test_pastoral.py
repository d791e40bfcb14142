"""Pastoral cadence: only after a quiet spell, never too often, in varied words."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.rules.pastoral import (
    INTERVAL_DAYS,
    SEND_AT,
    VARIANTS,
    PastoralError,
    check_level,
    choose_variant,
    pastoral_due,
)
from store.enums import PastoralLevel

LONDON = ZoneInfo("Europe/London")
JOINED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_off_means_never() -> None:
    due = pastoral_due(
        PastoralLevel.OFF,
        tz="Europe/London",
        since=JOINED,
        last_contact=None,
        last_pastoral=None,
        min_days=7,
    )
    assert due is None


def test_monthly_hello_comes_four_weeks_after_the_last_contact_at_late_morning() -> None:
    contact = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
    due = pastoral_due(
        PastoralLevel.MONTHLY,
        tz="Europe/London",
        since=JOINED,
        last_contact=contact,
        last_pastoral=None,
        min_days=7,
    )
    assert due == datetime(2026, 4, 8, 11, 0, tzinfo=LONDON)  # BST by then


def test_a_level_more_often_than_the_organisation_allows_is_refused_when_saved() -> None:
    with pytest.raises(PastoralError, match="fortnightly, monthly, off"):
        check_level(PastoralLevel.WEEKLY, 14)
    check_level(PastoralLevel.MONTHLY, 14)
    check_level(PastoralLevel.OFF, 90)


def test_wording_changes_each_time_and_goes_round_them_all() -> None:
    seen = [choose_variant(None)]
    for _ in range(VARIANTS * 2):
        seen.append(choose_variant(seen[-1]))
    assert all(a != b for a, b in pairwise(seen))
    assert set(seen) == set(range(VARIANTS))


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    level=st.sampled_from(list(INTERVAL_DAYS)),
    contact=st.none() | instants,
    previous=st.none() | instants,
    min_days=st.integers(7, 28),
)
def test_never_sooner_than_a_quiet_interval_or_the_minimum_gap(
    level: PastoralLevel,
    contact: datetime | None,
    previous: datetime | None,
    min_days: int,
) -> None:
    due = pastoral_due(
        level,
        tz="Europe/London",
        since=JOINED,
        last_contact=contact,
        last_pastoral=previous,
        min_days=min_days,
    )
    assert due is not None
    interval = timedelta(days=INTERVAL_DAYS[level])
    for anchor in (JOINED, contact):
        if anchor is not None:
            assert due >= anchor + interval
    if previous is not None:
        assert due >= previous + max(interval, timedelta(days=min_days))
    assert due.astimezone(LONDON).time() == SEND_AT
    assert due - max(m for m in (JOINED, contact, previous) if m) < interval + timedelta(
        days=max(min_days, INTERVAL_DAYS[level]) + 2
    )
    assert time(11) == SEND_AT

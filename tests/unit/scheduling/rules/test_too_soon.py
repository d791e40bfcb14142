"""Publishing too close to the start says, before anyone presses Publish, which parts of
the contact plan cannot happen; with time enough it says nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduling.rules.plan import PlanOffsets
from scheduling.rules.too_soon import too_soon

TZ = "Europe/London"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _warn(hours: float, post_only: tuple[str, ...] = ()) -> list[str]:
    starts = NOW + timedelta(hours=hours)
    return too_soon(starts, starts + timedelta(hours=2), TZ, PlanOffsets(), NOW, post_only)


def test_eleven_hours_away_names_what_cannot_happen() -> None:
    said = " ".join(_warn(11, ("Kenny",)))
    assert "pre-brief was meant to go 7 days before" in said
    assert "reminder (1 day before) cannot happen" in said
    assert "A letter cannot arrive" in said and "(Kenny)" in said


def test_three_weeks_away_is_fine() -> None:
    assert _warn(24 * 21) == []


def test_one_that_has_started_has_nothing_left_to_warn_about() -> None:
    assert _warn(-1) == []


@given(
    days=st.integers(min_value=9, max_value=60),
    minutes=st.integers(min_value=0, max_value=24 * 60),
)
def test_with_more_than_the_pre_brief_lead_there_is_never_a_warning(
    days: int, minutes: int
) -> None:
    assert _warn(days * 24 + minutes / 60) == []


@given(hours=st.floats(min_value=0.5, max_value=24 * 4 - 1))
def test_inside_four_days_a_letter_is_always_said_to_be_too_slow(hours: float) -> None:
    assert any("A letter cannot arrive" in line for line in _warn(hours))

"""When a promise must be kept: details before the reminder, never after the engagement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduling.rules.promises import promise_deadline

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
STARTS = NOW + timedelta(days=7)


def test_details_are_due_by_the_reminder() -> None:
    reminder = STARTS - timedelta(days=1)
    assert promise_deadline("details", NOW, STARTS, reminder) == reminder


def test_without_a_reminder_details_are_due_a_day_before() -> None:
    assert promise_deadline("details", NOW, STARTS, None) == STARTS - timedelta(days=1)


def test_a_late_promise_still_gets_a_little_time_but_never_past_the_start() -> None:
    soon = NOW + timedelta(hours=3)
    assert promise_deadline("details", NOW, soon, NOW - timedelta(hours=1)) == NOW + timedelta(
        hours=2
    )
    assert promise_deadline("details", NOW, NOW + timedelta(hours=1), None) == NOW + timedelta(
        hours=1
    )


def test_outcomes_in_a_week_and_costs_in_a_fortnight() -> None:
    assert promise_deadline("outcomes", NOW, STARTS, None) == NOW + timedelta(days=7)
    assert promise_deadline("costs", NOW, STARTS, None) == NOW + timedelta(days=14)

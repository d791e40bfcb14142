"""The expert's own say over contact, as pure rules: LATER never moves a message into
unsafe hours, earlier than it was due, or past its deadline; LESS and MORE stay within
the organisation's limits; a "not safe now" word cannot be one that fires by chance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.rules.agreement import (
    LEVELS,
    allowed,
    end_of_today,
    moved_later,
    next_window,
    safe_word_form,
    safe_word_problem,
    step_level,
)
from scheduling.rules.distress import DistressWords
from scheduling.rules.intents import _KEYWORDS
from scheduling.rules.windows import ContactRules, SafeWindow, is_allowed, window_end
from store.enums import PastoralLevel
from tests.unit.scheduling.rules.test_windows import PROPERTY, cases

DISTRESS = DistressWords.load()
OFFSETS = st.integers(-36 * 60, 72 * 60).map(lambda n: timedelta(minutes=n))


@PROPERTY
@given(cases(), OFFSETS, st.none() | OFFSETS)
def test_later_never_moves_a_message_into_unsafe_hours_earlier_or_past_its_deadline(
    case: tuple[datetime, ContactRules], due_in: timedelta, deadline_in: timedelta | None
) -> None:
    now, rules = case
    scheduled = now.astimezone(UTC) + due_in
    deadline = None if deadline_in is None else now.astimezone(UTC) + deadline_in
    target = next_window(now, rules)
    moved = moved_later(scheduled, target, deadline)
    if target is not None:
        assert target > now and is_allowed(target, rules)
        if is_allowed(now, rules):  # the window they are in now is not the "later" one
            end = window_end(now, rules)
            assert end is not None and target >= end
    if moved is None:
        assert target is None or (deadline is not None and max(scheduled, target) > deadline)
        return
    assert moved >= scheduled  # never sooner than it would have gone
    assert deadline is None or moved <= deadline
    if moved != scheduled:
        assert moved == target and is_allowed(moved, rules)


def test_later_in_the_morning_window_waits_for_the_evening_one() -> None:
    rules = ContactRules(
        "Europe/London",
        (SafeWindow.parse("mon-sun", "9-11"), SafeWindow.parse("mon-sun", "18-20")),
    )
    monday_10am = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
    assert next_window(monday_10am, rules) == datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    # Outside every window, "later" is the next one to open.
    assert next_window(monday_10am.replace(hour=12), rules) == monday_10am.replace(hour=18)


def test_today_ends_at_their_own_midnight_across_the_clock_change() -> None:
    # Saturday 28 March 2026, 11pm GMT: the clocks go forward overnight.
    late = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end_of_today(late, "Europe/London") == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    # 11.30pm BST is already 10.30pm UTC; their Sunday ends at 11pm UTC.
    sunday = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    assert end_of_today(sunday, "Europe/London") == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


@given(st.sampled_from(LEVELS), st.lists(st.booleans(), max_size=12), st.integers(7, 90))
def test_less_and_more_step_one_level_and_never_past_the_organisations_limit(
    start: PastoralLevel, steps: list[bool], min_days: int
) -> None:
    level = start if allowed(start, min_days) else PastoralLevel.OFF
    for more in steps:
        new = step_level(level, more, min_days)
        assert allowed(new, min_days)
        assert abs(LEVELS.index(new) - LEVELS.index(level)) <= 1
        moved = LEVELS.index(new) - LEVELS.index(level)
        assert moved >= 0 if more else moved <= 0
        level = new


def test_the_edges_stay_put() -> None:
    assert step_level(PastoralLevel.OFF, False, 7) is PastoralLevel.OFF
    assert step_level(PastoralLevel.WEEKLY, True, 7) is PastoralLevel.WEEKLY
    # Fortnightly is the most an organisation with a 14-day gap allows.
    assert step_level(PastoralLevel.FORTNIGHTLY, True, 14) is PastoralLevel.FORTNIGHTLY
    assert step_level(PastoralLevel.MONTHLY, True, 28) is PastoralLevel.MONTHLY


@pytest.mark.parametrize("phrase", sorted(" ".join(k) for k in _KEYWORDS))
def test_no_keyword_can_be_a_not_safe_word(phrase: str) -> None:
    assert safe_word_problem(phrase, DISTRESS) is not None


@given(st.text(alphabet="qxzjkvw", min_size=5, max_size=20))
def test_an_unusual_made_up_word_is_accepted_and_compared_however_it_is_typed(word: str) -> None:
    assert safe_word_problem(word, DISTRESS) is None
    assert safe_word_form(f"  {word.upper()}! ") == safe_word_form(word)

"""A person's safe windows as rules: the same settings give the same rules, made once, and
a changed setting is never answered from what was remembered."""

from __future__ import annotations

from datetime import UTC, datetime, time

from scheduling.rules.contact_rules import contact_rules, safe_windows
from scheduling.rules.windows import DEFAULT_WINDOW, SafeWindow, is_allowed, next_allowed
from store.enums import Channel
from store.models import ContactWindow, Expert

MONDAY_10 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # 10am in London (GMT)


def _person(*windows: ContactWindow, bank_holidays: bool = False) -> Expert:
    return Expert(
        time_zone="Europe/London", windows=list(windows), contact_on_bank_holidays=bank_holidays
    )


def _window(days: str, start: int, end: int, channel: Channel | None = None) -> ContactWindow:
    return ContactWindow(channel=channel, days=days, start=time(start), end=time(end))


def test_the_same_settings_give_the_same_rules_once() -> None:
    one = _person(_window("mon-fri", 9, 17))
    other = _person(_window("mon-fri", 9, 17))
    assert contact_rules(one, Channel.SMS, MONDAY_10) is contact_rules(
        other, Channel.SMS, MONDAY_10
    )


def test_a_changed_window_is_read_afresh() -> None:
    person = _person(_window("mon-fri", 9, 17))
    assert is_allowed(MONDAY_10, contact_rules(person, Channel.SMS, MONDAY_10))
    person.windows[0].start = time(11)
    rules = contact_rules(person, Channel.SMS, MONDAY_10)
    assert not is_allowed(MONDAY_10, rules)
    assert next_allowed(MONDAY_10, rules) == datetime(2026, 3, 16, 11, 0, tzinfo=UTC)
    person.windows.append(_window("mon", 9, 10, Channel.SMS))
    assert safe_windows(person, Channel.SMS) == (SafeWindow.parse("mon", "09:00-10:00"),)
    assert safe_windows(person, Channel.EMAIL) == (SafeWindow.parse("mon-fri", "11:00-17:00"),)


def test_bank_holidays_close_unless_the_person_said_they_are_fine() -> None:
    closed = contact_rules(_person(), Channel.SMS, MONDAY_10)
    assert datetime(2026, 12, 25).date() in closed.blocked_dates
    assert closed.windows == (DEFAULT_WINDOW,)
    fine = contact_rules(_person(bank_holidays=True), Channel.SMS, MONDAY_10)
    assert fine.blocked_dates == frozenset()

"""Safe-hours behaviour: a message outside someone's agreed hours is real harm, so test hard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.rules.windows import (
    DEFAULT_WINDOW,
    ContactRules,
    SafeWindow,
    WindowError,
    is_allowed,
    next_allowed,
    window_end,
)

LONDON = "Europe/London"
TICK = timedelta(microseconds=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rules(days: str, hours: str, tz: str = LONDON, **extra: object) -> ContactRules:
    return ContactRules(tz=tz, windows=(SafeWindow.parse(days, hours),), **extra)


def clock_allows(instant: datetime, rules: ContactRules) -> bool:
    """Reference answer, written independently: read the person's clock and calendar."""
    local = instant.astimezone(ZoneInfo(rules.tz)).replace(tzinfo=None)
    day, clock = local.date(), local.time()
    if day in rules.blocked_dates or (rules.paused_until and day < rules.paused_until):
        return False
    for w in rules.windows:
        if w.start < w.end and day.weekday() in w.days and w.start <= clock < w.end:
            return True
        if w.end <= w.start and day.weekday() in w.days and clock >= w.start:
            return True
        if w.end <= w.start and (day.weekday() - 1) % 7 in w.days and clock < w.end:
            return True
    return False


# --- worked examples -------------------------------------------------------------------------


def test_a_message_at_3am_waits_until_9am_the_same_day() -> None:
    assert next_allowed(utc(2026, 6, 10, 2), rules("every day", "9-20")) == utc(2026, 6, 10, 8)


def test_a_message_at_8_30pm_waits_until_9am_the_next_day() -> None:
    assert next_allowed(utc(2026, 1, 14, 20, 30), rules("every day", "9-20")) == utc(2026, 1, 15, 9)


def test_friday_evening_waits_for_monday_with_a_weekday_window() -> None:
    friday_9pm = utc(2026, 6, 12, 20)
    assert next_allowed(friday_9pm, rules("mon-fri", "9-20")) == utc(2026, 6, 15, 8)


def test_an_allowed_moment_is_sent_straight_away() -> None:
    r = rules("every day", "9-20")
    assert next_allowed(utc(2026, 6, 10, 12, 1, 2, 3), r) == utc(2026, 6, 10, 12, 1, 2, 3)
    assert is_allowed(utc(2026, 6, 10, 8), r)
    assert not is_allowed(utc(2026, 6, 10, 19), r)  # 20:00 BST: the window has just closed


def test_input_in_any_zone_gives_a_utc_answer() -> None:
    tokyo_noon = datetime(2026, 6, 10, 12, tzinfo=ZoneInfo("Asia/Tokyo"))  # 04:00 BST
    result = next_allowed(tokyo_noon, rules("every day", "9-20"))
    assert result == utc(2026, 6, 10, 8)
    assert result is not None and result.tzinfo is UTC


def test_a_local_time_in_the_repeated_hour_is_judged_by_its_real_instant() -> None:
    second_one_am = datetime(2026, 10, 25, 1, 0, fold=1, tzinfo=ZoneInfo(LONDON))  # 01:00 GMT
    r = rules("sat", "22:00-01:15")
    assert is_allowed(second_one_am, r)
    assert next_allowed(second_one_am, r) == utc(2026, 10, 25, 1)
    assert not is_allowed(second_one_am.replace(fold=0) + timedelta(minutes=20), r)  # 01:20 BST


SPRING, AUTUMN = (2026, 3, 29), (2026, 10, 25)  # London changes clocks at 01:00 UTC


@pytest.mark.parametrize(
    ("hours", "instant", "expected", "closes"),
    [
        # 01:00-02:00 never happens on spring-forward day: first chance is the next night.
        ("01:00-02:00", utc(*SPRING, 0, 30), utc(2026, 3, 30, 0), utc(2026, 3, 30, 1)),
        # An end inside the gap closes at the gap (01:00 UTC), half an hour in.
        ("00:30-01:30", utc(*SPRING, 0), utc(*SPRING, 0, 30), utc(*SPRING, 1)),
        ("00:30-01:30", utc(*SPRING, 1), utc(*SPRING, 23, 30), utc(2026, 3, 30, 0, 30)),
        # A start inside the gap opens when the gap ends, 02:00 BST.
        ("01:30-03:00", utc(*SPRING, 0, 45), utc(*SPRING, 1), utc(*SPRING, 2)),
        # The repeated hour counts twice: 01:00 BST until 02:00 GMT.
        ("01:00-02:00", utc(2026, 10, 24, 23, 30), utc(*AUTUMN, 0), utc(*AUTUMN, 2)),
        # An end inside the repeated hour: allowed while the clock reads before 01:30, both passes.
        ("00:30-01:30", utc(2026, 10, 24, 23), utc(2026, 10, 24, 23, 30), utc(*AUTUMN, 0, 30)),
        ("00:30-01:30", utc(*AUTUMN, 0, 30), utc(*AUTUMN, 1), utc(*AUTUMN, 1, 30)),
        ("00:30-01:30", utc(*AUTUMN, 1, 30), utc(2026, 10, 26, 0, 30), utc(2026, 10, 26, 1, 30)),
        # A start inside the repeated hour opens at its first occurrence, pauses while the clock
        # shows the earlier time again, then resumes.
        ("01:30-05:00", utc(*AUTUMN, 0), utc(*AUTUMN, 0, 30), utc(*AUTUMN, 1)),
        ("01:30-05:00", utc(*AUTUMN, 1), utc(*AUTUMN, 1, 30), utc(*AUTUMN, 5)),
        # Overnight windows across both changes.
        ("22:00-02:00", utc(2026, 3, 28, 21), utc(2026, 3, 28, 22), utc(*SPRING, 1)),
        ("22:00-02:00", utc(*SPRING, 1), utc(*SPRING, 21), utc(2026, 3, 30, 1)),
        ("22:00-02:00", utc(2026, 10, 24, 20), utc(2026, 10, 24, 21), utc(*AUTUMN, 2)),
    ],
)
def test_clock_changes_in_london_are_handled_exactly(
    hours: str, instant: datetime, expected: datetime, closes: datetime
) -> None:
    r = rules("every day", hours)
    assert next_allowed(instant, r) == expected
    assert window_end(expected, r) == closes
    assert not is_allowed(closes, r)


def test_a_blocked_date_skips_to_the_next_day() -> None:
    r = rules("every day", "9-20", blocked_dates=frozenset({date(2026, 12, 25)}))
    assert next_allowed(utc(2026, 12, 24, 21), r) == utc(2026, 12, 26, 9)


def test_a_blocked_date_silences_the_after_midnight_tail_of_an_overnight_window() -> None:
    r = rules("every day", "22:00-02:00", blocked_dates=frozenset({date(2026, 12, 25)}))
    assert window_end(utc(2026, 12, 24, 22), r) == utc(2026, 12, 25)
    # The window that starts on the 25th is blocked, but its tail on the 26th is not.
    assert next_allowed(utc(2026, 12, 25), r) == utc(2026, 12, 26)


def test_a_pause_holds_messages_until_it_ends() -> None:
    r = rules("every day", "9-20", paused_until=date(2026, 7, 1))
    assert next_allowed(utc(2026, 6, 20, 12), r) == utc(2026, 7, 1, 8)


def test_nothing_allowed_within_the_horizon_means_hand_to_a_person() -> None:
    every_date = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(800))
    assert (
        next_allowed(utc(2026, 1, 2), rules("every day", "9-20", blocked_dates=every_date)) is None
    )
    paused = rules("every day", "9-20", paused_until=date(2030, 1, 1))
    assert next_allowed(utc(2026, 1, 2), paused) is None
    assert next_allowed(utc(2026, 1, 2), paused, horizon_days=2000) == utc(2030, 1, 1, 9)


def test_window_end_is_none_outside_safe_hours() -> None:
    assert window_end(utc(2026, 6, 10, 2), rules("every day", "9-20")) is None


def test_back_to_back_windows_make_one_continuous_span() -> None:
    r = ContactRules(LONDON, (SafeWindow.parse("mon", "9-12"), SafeWindow.parse("mon", "12-17")))
    assert window_end(utc(2026, 6, 15, 8), r) == utc(2026, 6, 15, 16)


def test_default_window_is_nine_to_eight_every_day() -> None:
    assert DEFAULT_WINDOW.describe() == "every day, 9am to 8pm"


# --- fail closed on bad settings -------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Europe/Londn", "", "localtime", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_not_guessed(tz: str) -> None:
    with pytest.raises(WindowError, match="time zone"):
        ContactRules(tz=tz, windows=(DEFAULT_WINDOW,))


def test_no_safe_hours_is_refused() -> None:
    with pytest.raises(WindowError, match="no safe hours are set"):
        ContactRules(tz=LONDON, windows=())


def test_a_clock_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2026, 6, 10, 12), rules("every day", "9-20"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": frozenset({0}), "start": time(9), "end": time(9)}, "needs some allowed hours"),
        ({"days": frozenset(), "start": time(9), "end": time(17)}, "at least one day"),
        ({"days": frozenset({7}), "start": time(9), "end": time(17)}, "0 \\(Monday\\) to 6"),
        ({"days": frozenset({1}), "start": time(9, tzinfo=UTC), "end": time(17)}, "no time zone"),
    ],
)
def test_contradictory_windows_are_refused_with_a_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(WindowError, match=message):
        SafeWindow(**kwargs)


def test_a_blocked_date_given_as_a_datetime_is_refused() -> None:
    with pytest.raises(WindowError, match="calendar dates"):
        rules("every day", "9-20", blocked_dates=frozenset({datetime(2026, 12, 25)}))


# --- reading and describing settings ---------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "hours", "expected_days", "start", "end"),
    [
        ("mon-fri", "9-20", {0, 1, 2, 3, 4}, time(9), time(20)),
        ("Every Day", "09:30-17:00", set(range(7)), time(9, 30), time(17)),
        ("mon,wed,fri", "22:00-02:00", {0, 2, 4}, time(22), time(2)),
        ("fri-mon", "9 - 17", {4, 5, 6, 0}, time(9), time(17)),
        ("weekends", "10:00-24:00", {5, 6}, time(10), time(0)),
        ("weekends", "00:00-24:00", {5, 6}, time(0), time(0)),  # all day
        ("WEEKDAYS", "8-9", {0, 1, 2, 3, 4}, time(8), time(9)),
    ],
)
def test_parse_reads_what_coordinators_type(
    days: str, hours: str, expected_days: set[int], start: time, end: time
) -> None:
    assert SafeWindow.parse(days, hours) == SafeWindow(frozenset(expected_days), start, end)


@pytest.mark.parametrize(
    ("days", "hours", "names", "example"),
    [
        ("mon-fry", "9-20", "'fry'", "mon-fri"),
        ("  ", "9-20", "no days", "every day"),
        ("mon", "9-25", "'9-25'", "09:00-20:00"),
        ("mon", "nine to five", "'nine to five'", "09:00-20:00"),
        ("mon", "9:5-10", "'9:5-10'", "22:00-02:00"),
        ("mon", "9-9", "same", "allowed hours"),
    ],
)
def test_parse_errors_name_the_problem_and_show_the_right_form(
    days: str, hours: str, names: str, example: str
) -> None:
    with pytest.raises(WindowError) as caught:
        SafeWindow.parse(days, hours)
    assert names in str(caught.value)
    assert example in str(caught.value)


@pytest.mark.parametrize(
    ("days", "hours", "text"),
    [
        ("mon-fri", "9-20", "Monday to Friday, 9am to 8pm"),
        ("every day", "9:30-17:00", "every day, 9:30am to 5pm"),
        ("weekends", "22-02", "Saturday and Sunday, 10pm to 2am the next day"),
        ("mon,wed,fri", "12:00-13:15", "Monday, Wednesday and Friday, midday to 1:15pm"),
        ("fri-mon", "22-06", "Friday to Monday, 10pm to 6am the next day"),
        ("sun", "18-24", "Sunday, 6pm to midnight"),
        ("sat,sun", "00:00-24:00", "Saturday and Sunday, at any time"),
    ],
)
def test_describe_speaks_plain_english(days: str, hours: str, text: str) -> None:
    assert SafeWindow.parse(days, hours).describe() == text


def test_an_all_day_window_is_open_through_its_days_and_closed_on_the_others() -> None:
    weekend = ContactRules("Europe/London", (SafeWindow.parse("sat,sun", "00:00-24:00"),))
    saturday = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)  # GMT: midnight local
    assert is_allowed(saturday, weekend)
    assert is_allowed(datetime(2026, 3, 29, 22, 59, tzinfo=UTC), weekend)  # BST, 23:59
    assert not is_allowed(datetime(2026, 3, 29, 23, 0, tzinfo=UTC), weekend)  # Monday
    friday_noon = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    assert next_allowed(friday_noon, weekend) == saturday


# --- properties over many settings, weighted towards clock changes ---------------------------


def _last_sunday(year: int, month: int) -> date:
    end = date(year, month, 31)
    return end - timedelta(days=(end.weekday() + 1) % 7)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


LONDON_CHANGES = [
    datetime.combine(_last_sunday(y, m), time(1), UTC) for y in range(2024, 2031) for m in (3, 10)
]
NEW_YORK_CHANGES = [
    datetime.combine(d, time(h), UTC)
    for y in range(2024, 2031)
    for d, h in ((_nth_sunday(y, 3, 2), 7), (_nth_sunday(y, 11, 1), 6))
]
CLOCK_TIMES = st.one_of(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
DAY_SETS = st.frozensets(st.integers(0, 6), min_size=1)
UNIFORM = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
NEAR_MINUTES = st.integers(-48 * 60, 48 * 60).map(lambda n: timedelta(minutes=n))
NEAR_CHANGE = {
    tz: st.builds(lambda at, shift: at + shift, st.sampled_from(changes), NEAR_MINUTES)
    for tz, changes in ((LONDON, LONDON_CHANGES), ("America/New_York", NEW_YORK_CHANGES))
}
BLOCKED_SHIFTS = st.frozensets(st.integers(-1, 8), max_size=4)
PAUSE_SHIFT = st.none() | st.integers(-1, 5)


@st.composite
def cases(draw: st.DrawFn, tz: str = LONDON) -> tuple[datetime, ContactRules]:
    """An instant (two times in three within two days of a clock change) and rules around it."""
    instant = draw(st.one_of(UNIFORM, NEAR_CHANGE[tz], NEAR_CHANGE[tz]))
    windows = []
    for _ in range(draw(st.integers(1, 3))):
        start, end = draw(CLOCK_TIMES), draw(CLOCK_TIMES)
        if start == end:  # a window needs some hours; nudge rather than discard the example
            end = time((end.hour + 1) % 24, end.minute)
        windows.append(SafeWindow(draw(DAY_SETS), start, end))
    local_day = instant.astimezone(ZoneInfo(tz)).date()
    blocked = frozenset(local_day + timedelta(days=n) for n in draw(BLOCKED_SHIFTS))
    pause = draw(PAUSE_SHIFT)
    paused = None if pause is None else local_day + timedelta(days=pause)
    if draw(st.booleans()):
        instant = instant.astimezone(ZoneInfo(tz))  # callers may pass local, folded datetimes
    return instant, ContactRules(tz, tuple(windows), blocked, paused)


def _boundaries(lo: datetime, hi: datetime, r: ContactRules) -> list[datetime]:
    """UTC instants where allowed-ness can change between lo and hi: window edges and midnights."""
    zone, out = ZoneInfo(r.tz), []
    day = lo.astimezone(zone).date() - timedelta(days=1)
    while day <= hi.astimezone(zone).date():
        for clock in [time(0), *(t for w in r.windows for t in (w.start, w.end))]:
            for fold in (0, 1):
                out.append(datetime.combine(day, clock, zone).replace(fold=fold).astimezone(UTC))
        day += timedelta(days=1)
    return [b for b in out if lo <= b < hi]


PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY
@given(cases())
def test_result_is_never_earlier_and_is_itself_allowed(case: tuple) -> None:
    instant, r = case
    result = next_allowed(instant, r)
    assert result is not None and result >= instant
    assert is_allowed(result, r)
    assert clock_allows(result, r)  # the person's clock shows a time inside a window


@PROPERTY
@given(cases())
def test_no_allowed_moment_is_ever_skipped(case: tuple) -> None:
    instant, r = case
    result = next_allowed(instant, r)
    assert result is not None
    instant = instant.astimezone(UTC)  # step in real time: local arithmetic would drop the fold
    step = max(timedelta(minutes=15), (result - instant) / 2000)
    probes = [instant + step * n for n in range(int((result - instant) / step) + 1)]
    probes += [*_boundaries(instant, result, r), result - TICK]
    assert not any(clock_allows(p, r) for p in probes if instant <= p < result)


@PROPERTY
@given(cases())
def test_asking_again_at_the_answer_gives_the_same_answer(case: tuple) -> None:
    instant, r = case
    result = next_allowed(instant, r)
    assert result is not None
    assert next_allowed(result, r) == result


@PROPERTY
@given(cases())
def test_is_allowed_agrees_with_the_persons_clock(case: tuple) -> None:
    instant, r = case
    assert is_allowed(instant, r) == clock_allows(instant, r)


@PROPERTY
@given(cases())
def test_a_held_message_goes_when_a_window_opens_or_a_clock_gap_ends(case: tuple) -> None:
    instant, r = case
    result = next_allowed(instant, r)
    assert result is not None
    local = result.astimezone(ZoneInfo(r.tz))
    wall = local.replace(tzinfo=None)
    # The result's clock reading really exists: read back, it is the very same instant.
    assert wall.replace(tzinfo=local.tzinfo, fold=local.fold).astimezone(UTC) == result
    if result != instant.astimezone(UTC):  # (a repeated-hour local time never equals UTC)
        openings = {time(0), *(w.start for w in r.windows)}
        clocks_changed = (result - TICK).astimezone(local.tzinfo).utcoffset() != local.utcoffset()
        assert wall.time() in openings or clocks_changed


@PROPERTY
@given(cases())
def test_window_end_is_when_the_safe_span_actually_closes(case: tuple) -> None:
    instant, r = case
    start = next_allowed(instant, r)
    assert start is not None
    end = window_end(start, r)
    assert end is not None and end > start
    step = max(timedelta(minutes=15), (end - start) / 2000)
    probes = [start + step * n for n in range(int((end - start) / step) + 1)]
    probes += [*_boundaries(start, min(end, start + timedelta(days=14)), r), end - TICK]
    assert all(clock_allows(p, r) for p in probes if start <= p < end)
    assert end - start > timedelta(days=300) or not clock_allows(end, r)


@settings(PROPERTY, max_examples=150)
@given(cases(tz="America/New_York"))
def test_new_york_clock_changes_obey_the_same_rules(case: tuple) -> None:
    instant, r = case
    result = next_allowed(instant, r)
    assert result is not None and result >= instant and clock_allows(result, r)
    assert next_allowed(result, r) == result
    assert is_allowed(instant, r) == clock_allows(instant, r)
    probes = [*_boundaries(instant, result, r), result - TICK]
    assert not any(clock_allows(p, r) for p in probes if instant <= p < result)

"""Crisis lines as data: offering a closed line to someone in distress is real harm. Test hard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.rules.support_lines import (
    DEFAULT_SUPPORT_LINES,
    SupportLine,
    SupportLinesError,
    load_support_lines,
    open_now,
)

LONDON = ZoneInfo("Europe/London")
LINES = load_support_lines()
BY_NAME = {line.name: line for line in LINES}
SAMARITANS = BY_NAME["Samaritans"]
BREATHING_SPACE = BY_NAME["Breathing Space"]
RAPE_CRISIS = BY_NAME["Rape Crisis Scotland"]
ALWAYS = [
    "Samaritans",
    "NHS 24",
    "Scotland's Domestic Abuse and Forced Marriage Helpline",
    "Emergency",
]


def london(*parts: int) -> datetime:
    """A London wall-clock time as the aware UTC instant the caller would pass in."""
    return datetime(*parts, tzinfo=LONDON).astimezone(UTC)


def names(lines: list[SupportLine]) -> list[str]:
    return [line.name for line in lines]


# --- the shipped file ----------------------------------------------------------------------------


def test_the_shipped_file_lists_the_checked_scottish_lines() -> None:
    assert names(LINES) == [*ALWAYS, "Breathing Space", "Rape Crisis Scotland"]
    numbers = {line.name: line.number for line in LINES}
    assert numbers["Samaritans"] == "116 123"
    assert numbers["NHS 24"] == "111"
    assert numbers["Scotland's Domestic Abuse and Forced Marriage Helpline"] == "0800 027 1234"
    assert numbers["Breathing Space"] == "0800 83 85 87"
    assert numbers["Rape Crisis Scotland"] == "08088 01 03 02"
    assert numbers["Emergency"] == "999"


def test_every_shipped_line_says_when_and_where_it_was_checked() -> None:
    for line in LINES:
        assert line.last_checked == date(2026, 11, 23)
        assert line.source.startswith("https://")
        assert line.hours_text
        assert not line.is_stale(date(2026, 11, 23))


def test_only_999_is_for_immediate_danger_and_it_says_how_to_call_silently() -> None:
    danger = [line for line in LINES if line.for_immediate_danger]
    assert names(danger) == ["Emergency"]
    assert "55" in danger[0].note


def test_samaritans_note_says_it_is_free_and_off_the_bill() -> None:
    assert "free" in SAMARITANS.note
    assert "phone bills" in SAMARITANS.note


def test_the_default_path_is_the_templates_file() -> None:
    assert DEFAULT_SUPPORT_LINES.name == "support_lines.toml"
    assert DEFAULT_SUPPORT_LINES.parent.name == "templates"


# --- opening hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        london(2026, 7, 14, 3),
        london(2026, 1, 13, 14),
        london(2026, 3, 29, 0, 30),  # just before the clocks go forward
        london(2026, 10, 25, 1, 30),  # the repeated hour
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # its second pass
    ],
)
def test_samaritans_is_always_open(at: datetime) -> None:
    assert SAMARITANS.is_open(at)


# July 2026 is in BST (UTC+1); January 2026 is in GMT (UTC+0).
SUMMER_TUESDAY, SUMMER_FRIDAY, SUMMER_SATURDAY = (2026, 7, 14), (2026, 7, 17), (2026, 7, 18)
WINTER_TUESDAY, WINTER_FRIDAY, WINTER_SATURDAY = (2026, 1, 13), (2026, 1, 16), (2026, 1, 17)


@pytest.mark.parametrize(
    ("tuesday", "saturday"), [(SUMMER_TUESDAY, SUMMER_SATURDAY), (WINTER_TUESDAY, WINTER_SATURDAY)]
)
def test_breathing_space_is_open_on_weekday_evenings_and_all_weekend(
    tuesday: tuple[int, int, int], saturday: tuple[int, int, int]
) -> None:
    assert BREATHING_SPACE.is_open(london(*tuesday, 23))
    assert BREATHING_SPACE.is_open(london(*tuesday, 18))
    assert BREATHING_SPACE.is_open(london(*tuesday, 1, 59))  # Monday night's tail
    assert BREATHING_SPACE.is_open(london(*saturday, 14))
    assert BREATHING_SPACE.is_open(london(*saturday, 4))


@pytest.mark.parametrize(
    ("tuesday", "friday"), [(SUMMER_TUESDAY, SUMMER_FRIDAY), (WINTER_TUESDAY, WINTER_FRIDAY)]
)
def test_breathing_space_is_closed_on_weekday_daytimes(
    tuesday: tuple[int, int, int], friday: tuple[int, int, int]
) -> None:
    assert not BREATHING_SPACE.is_open(london(*tuesday, 14))
    assert not BREATHING_SPACE.is_open(london(*tuesday, 2))
    assert not BREATHING_SPACE.is_open(london(*tuesday, 17, 59))
    assert not BREATHING_SPACE.is_open(london(*friday, 12))


def test_breathing_space_hours_follow_the_london_clock_not_utc() -> None:
    # 17:30 UTC is 18:30 in summer (open) but 17:30 in winter (closed).
    assert BREATHING_SPACE.is_open(datetime(2026, 7, 14, 17, 30, tzinfo=UTC))
    assert not BREATHING_SPACE.is_open(datetime(2026, 1, 13, 17, 30, tzinfo=UTC))


def test_the_weekend_runs_from_friday_6pm_to_monday_6am_across_the_week_boundary() -> None:
    assert not BREATHING_SPACE.is_open(london(2026, 7, 17, 17, 59))  # Friday
    assert BREATHING_SPACE.is_open(london(2026, 7, 17, 18))
    assert BREATHING_SPACE.is_open(london(2026, 7, 19, 23, 59))  # Sunday night
    assert BREATHING_SPACE.is_open(london(2026, 7, 20, 0, 0))  # Monday, past the week's end
    assert BREATHING_SPACE.is_open(london(2026, 7, 20, 5, 59))
    assert not BREATHING_SPACE.is_open(london(2026, 7, 20, 6))
    assert BREATHING_SPACE.is_open(london(2026, 7, 20, 18))  # and Monday evening again


def test_the_thursday_night_shift_runs_into_friday_morning() -> None:
    assert BREATHING_SPACE.is_open(london(2026, 7, 17, 1))
    assert not BREATHING_SPACE.is_open(london(2026, 7, 17, 3))


def test_breathing_space_is_open_through_both_clock_changes() -> None:
    # Sunday 29 March 2026 01:00 UTC: clocks go forward. Sunday 25 October: clocks go back.
    for hour in range(24):
        assert BREATHING_SPACE.is_open(datetime(2026, 3, 29, hour, tzinfo=UTC))
        assert BREATHING_SPACE.is_open(datetime(2026, 10, 25, hour, tzinfo=UTC))


@pytest.mark.parametrize("day", [SUMMER_TUESDAY, WINTER_TUESDAY, SUMMER_SATURDAY, WINTER_SATURDAY])
def test_rape_crisis_is_open_in_the_evening_and_closed_in_the_morning(
    day: tuple[int, int, int],
) -> None:
    assert RAPE_CRISIS.is_open(london(*day, 19))
    assert RAPE_CRISIS.is_open(london(*day, 18))
    assert RAPE_CRISIS.is_open(london(*day, 23, 59))
    assert not RAPE_CRISIS.is_open(london(*day, 9))
    assert not RAPE_CRISIS.is_open(london(*day, 17, 59))
    assert not RAPE_CRISIS.is_open(london(*day, 0, 0) + timedelta(days=1))  # midnight closes


def test_rape_crisis_opens_at_6pm_local_on_the_day_the_clocks_change() -> None:
    assert not RAPE_CRISIS.is_open(datetime(2026, 3, 29, 16, 59, tzinfo=UTC))  # 17:59 BST
    assert RAPE_CRISIS.is_open(datetime(2026, 3, 29, 17, 0, tzinfo=UTC))  # 18:00 BST


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BREATHING_SPACE.is_open(datetime(2026, 7, 14, 23))
    with pytest.raises(ValueError, match="timezone-aware"):
        open_now(LINES, datetime(2026, 7, 14, 23))


def test_a_time_in_another_zone_is_read_as_its_real_instant() -> None:
    tokyo = datetime(2026, 7, 15, 7, tzinfo=ZoneInfo("Asia/Tokyo"))  # Tuesday 23:00 in London
    assert BREATHING_SPACE.is_open(tokyo)


# --- what to offer now ---------------------------------------------------------------------------


def test_on_a_weekday_afternoon_only_the_always_open_lines_are_offered() -> None:
    assert names(open_now(LINES, london(2026, 7, 14, 14))) == ALWAYS


def test_on_a_weekday_night_open_lines_follow_the_always_open_ones() -> None:
    offered = names(open_now(LINES, london(2026, 7, 14, 23)))
    assert offered == [*ALWAYS, "Breathing Space", "Rape Crisis Scotland"]


def test_after_midnight_a_closed_line_is_left_out() -> None:
    offered = names(open_now(LINES, london(2026, 7, 14, 1)))
    assert offered == [*ALWAYS, "Breathing Space"]


def test_always_open_lines_come_first_even_if_listed_last(tmp_path: Path) -> None:
    path = write(tmp_path, EVENINGS + ALWAYS_OPEN)
    offered = names(open_now(load_support_lines(path), london(2026, 7, 14, 19)))
    assert offered == ["Always Line", "Evening Line"]


def test_no_lines_means_nothing_to_offer() -> None:
    assert open_now([], london(2026, 7, 14, 19)) == []


# --- staleness -----------------------------------------------------------------------------------


def test_a_line_goes_stale_after_12_months() -> None:
    assert not SAMARITANS.is_stale(date(2027, 11, 23))
    assert SAMARITANS.is_stale(date(2027, 11, 24))
    assert SAMARITANS.is_stale(date(2030, 1, 1))


def test_the_age_limit_can_be_tightened() -> None:
    assert SAMARITANS.is_stale(date(2027, 2, 22), max_age_days=90)
    assert not SAMARITANS.is_stale(date(2027, 2, 20), max_age_days=90)


def test_a_check_dated_in_the_future_cannot_vouch_for_a_number() -> None:
    assert not SAMARITANS.is_stale(date(2026, 11, 22))  # a day's clock skew is fine
    assert SAMARITANS.is_stale(date(2026, 11, 1))


# --- malformed files -----------------------------------------------------------------------------

ALWAYS_OPEN = """
[[line]]
name = "Always Line"
neutral = "Someone to talk to, free, 24 hours"
number = "0800 000 000"
hours = "always"
hours_text = "any time"
last_checked = 2026-11-23
source = "https://example.org/always"
"""

EVENINGS = """
[[line]]
name = "Evening Line"
neutral = "Someone to talk to, free, evenings"
number = "0800 111 111"
hours = ["every day 18:00-24:00"]
hours_text = "6pm to midnight"
last_checked = 2026-11-23
source = "https://example.org/evenings"
"""


def write(tmp_path: Path, text: str, *, zone: str = 'time_zone = "Europe/London"\n') -> Path:
    """A support lines file: ``text`` under the zone line every file starts with."""
    path = tmp_path / "support_lines.toml"
    path.write_text(zone + text, encoding="utf-8")
    return path


def evening_line(**changes: str) -> str:
    """The evening line with some settings replaced, written as TOML lines."""
    text = EVENINGS
    for key, value in changes.items():
        start = text.index(f"\n{key} = ") + 1
        end = text.index("\n", start)
        text = text[:start] + (f"{key} = {value}" if value else "") + text[end:]
    return text


MALFORMED = [
    pytest.param("[[line]\nname = ", "not valid TOML", id="broken-toml"),
    pytest.param("", "no support lines found", id="empty-file"),
    pytest.param("# just a comment\n", "no support lines found", id="only-comments"),
    pytest.param("line = []\n", "no support lines found", id="empty-list"),
    pytest.param('title = "x"\n' + EVENINGS, "unknown setting title", id="unknown-top-level"),
    pytest.param("[line]\nname = 'x'\n", "[[line]] table", id="single-table"),
    pytest.param(
        evening_line(hours='["mun-thu 18:00-02:00"]'),
        "I don't recognise the day 'mun'",
        id="unknown-day",
    ),
    pytest.param(
        evening_line(hours='["fri 18:00-mondy 06:00"]'),
        "I don't recognise the day 'mondy'",
        id="unknown-day-in-stretch",
    ),
    pytest.param(
        evening_line(hours='["every day 18:00-25:00"]'), "the time '25:00'", id="bad-hour"
    ),
    pytest.param(
        evening_line(hours='["every day 18:60-23:00"]'), "the time '18:60'", id="bad-minute"
    ),
    pytest.param(
        evening_line(hours='["every day 24:00-02:00"]'), "the time '24:00'", id="start-at-24"
    ),
    pytest.param(evening_line(hours='["every day 6pm-2am"]'), "can't read the span", id="am-pm"),
    pytest.param(evening_line(hours='["18:00-02:00"]'), "can't read the span", id="no-days"),
    pytest.param(
        evening_line(hours='["mon- 18:00-20:00"]'), "can't read the span", id="open-range"
    ),
    pytest.param(
        evening_line(hours='["every day 18:00-18:00"]'), "starts and ends", id="zero-length"
    ),
    pytest.param(
        evening_line(hours='["fri 18:00-fri 18:00"]'), "starts and ends", id="zero-stretch"
    ),
    pytest.param(evening_line(hours='"sometimes"'), 'must be "always"', id="hours-word"),
    pytest.param(evening_line(hours="[]"), 'must be "always"', id="hours-empty"),
    pytest.param(evening_line(hours="18"), 'must be "always"', id="hours-number"),
    pytest.param(evening_line(hours='["always"]'), "not in a list", id="always-in-list"),
    pytest.param(evening_line(number=""), "missing number", id="missing-number"),
    pytest.param(evening_line(number="999"), "number must be text in quotes", id="bare-number"),
    pytest.param(evening_line(number='"O800 111 111"'), "digits and spaces", id="letter-o"),
    pytest.param(evening_line(name='""'), "name is empty", id="empty-name"),
    pytest.param(evening_line(hours_text=""), "missing hours_text", id="missing-hours-text"),
    pytest.param(evening_line(last_checked='"2026-11-23"'), "plain date", id="quoted-date"),
    pytest.param(evening_line(last_checked="2026-11-23T10:00:00"), "plain date", id="date-time"),
    pytest.param(evening_line(source='"the website"'), "web address", id="source-not-url"),
    pytest.param(
        EVENINGS + 'for_immediate_danger = "yes"\n', "true or false", id="danger-not-bool"
    ),
    pytest.param(EVENINGS + 'nte = "typo"\n', "unknown field nte", id="unknown-field"),
    pytest.param(
        EVENINGS + EVENINGS.replace("0800 111 111", "0800 222 222"),
        "already used by [[line]] number 1",
        id="duplicate-name",
    ),
]


@pytest.mark.parametrize(("text", "problem"), MALFORMED)
def test_a_malformed_file_is_refused_with_a_message_saying_what_to_fix(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SupportLinesError) as caught:
        load_support_lines(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message


def test_the_message_names_the_line_by_number_and_name(tmp_path: Path) -> None:
    path = write(tmp_path, ALWAYS_OPEN + evening_line(hours='["mun 18:00-20:00"]'))
    with pytest.raises(SupportLinesError, match=r"\[\[line\]\] number 2 \('Evening Line'\)"):
        load_support_lines(path)


@pytest.mark.parametrize(
    ("zone", "problem"),
    [
        ("", "missing time_zone"),
        ('time_zone = "Europe/Londn"\n', "'Europe/Londn' is not a time zone I know"),
        ("time_zone = 1\n", "time_zone must be a zone name in quotes"),
    ],
)
def test_the_zone_of_the_hours_must_be_named_and_known(
    tmp_path: Path, zone: str, problem: str
) -> None:
    with pytest.raises(SupportLinesError, match=problem):
        load_support_lines(write(tmp_path, EVENINGS, zone=zone))


def test_hours_are_read_on_the_clock_the_file_names(tmp_path: Path) -> None:
    (line,) = load_support_lines(write(tmp_path, EVENINGS, zone='time_zone = "Asia/Tokyo"\n'))
    tokyo_evening = datetime(2026, 7, 14, 19, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert line.is_open(tokyo_evening)
    assert not line.is_open(london(2026, 7, 14, 19))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SupportLinesError, match="can't read the file"):
        load_support_lines(tmp_path / "nowhere.toml")


def test_a_support_lines_error_is_a_value_error() -> None:
    assert issubclass(SupportLinesError, ValueError)


# --- other ways of writing hours -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "open_at", "closed_at"),
    [
        ('["weekdays 09:00-17:00"]', (2026, 7, 14, 9), (2026, 7, 18, 10)),
        ('["weekends 10:00-16:00"]', (2026, 7, 18, 10), (2026, 7, 14, 10)),
        ('["mon, wed 09:00-17:00"]', (2026, 7, 15, 12), (2026, 7, 14, 12)),
        ('["sat-mon 09:00-17:00"]', (2026, 7, 20, 12), (2026, 7, 14, 12)),
        ('["sun 22:00-02:00"]', (2026, 7, 20, 1), (2026, 7, 14, 1)),
        ('["Mon – Thu 18:00 – 02:00"]', (2026, 7, 14, 1), (2026, 7, 14, 3)),
        ('["sun 20:00-mon 08:00"]', (2026, 7, 20, 7), (2026, 7, 20, 8)),
        ('["every day 00:00-24:00"]', (2026, 7, 14, 3), None),
    ],
)
def test_hours_can_be_written_the_ways_services_describe_them(
    tmp_path: Path,
    hours: str,
    open_at: tuple[int, ...],
    closed_at: tuple[int, ...] | None,
) -> None:
    (line,) = load_support_lines(write(tmp_path, evening_line(hours=hours)))
    assert line.is_open(london(*open_at))
    if closed_at is not None:
        assert not line.is_open(london(*closed_at))


# --- properties ----------------------------------------------------------------------------------

_ZONES = st.sampled_from(
    [UTC, LONDON, ZoneInfo("Pacific/Kiritimati"), timezone(timedelta(hours=-12))]
)
_INSTANTS = st.datetimes(timezones=_ZONES)


@settings(max_examples=300)
@given(at=_INSTANTS)
def test_is_open_never_raises_and_always_open_lines_are_always_open(at: datetime) -> None:
    for line in LINES:
        assert isinstance(line.is_open(at), bool)
        if line.always_open:
            assert line.is_open(at)
    offered = open_now(LINES, at)
    assert names(offered)[: len(ALWAYS)] == ALWAYS


def breathing_space_reference(at: datetime) -> bool:
    """Written independently: read the London clock and the published hours."""
    local = at.astimezone(LONDON)
    day, minutes = local.weekday(), local.hour * 60 + local.minute
    evening = minutes >= 18 * 60
    small_hours = minutes < 2 * 60
    return (
        (day in (0, 1, 2, 3) and evening)  # Monday to Thursday from 6pm
        or (day in (1, 2, 3, 4) and small_hours)  # ... until 2am the next day
        or (day == 4 and evening)  # Friday from 6pm
        or day in (5, 6)  # all weekend
        or (day == 0 and minutes < 6 * 60)  # until Monday 6am
    )


@given(
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=_ZONES
    )
)
def test_breathing_space_matches_its_published_hours_at_any_moment(at: datetime) -> None:
    assert BREATHING_SPACE.is_open(at) == breathing_space_reference(at)


# --- neutral labels, for channels not safe for details ------------------------------------------


def test_every_shipped_line_has_a_neutral_label_that_names_no_service() -> None:
    from scheduling.rules.discreet_words import BlockedWords

    blocked = BlockedWords.load()
    for line in LINES:
        assert line.neutral
        for other in LINES:
            assert other.name.lower() not in line.neutral.lower()
        assert blocked.first_in(line.neutral) is None, line.neutral


def test_a_line_without_a_neutral_label_is_refused_saying_what_it_is_for(tmp_path: Path) -> None:
    with pytest.raises(SupportLinesError, match="missing neutral") as caught:
        load_support_lines(write(tmp_path, evening_line(neutral="")))
    assert "without the service's name" in str(caught.value)


def test_a_neutral_label_that_names_the_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SupportLinesError, match="names the service"):
        load_support_lines(write(tmp_path, evening_line(neutral='"Evening Line, free"')))

"""Scottish bank holidays and letter timing, checked against published dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from channels.working_days import letter_arrival, scottish_bank_holidays

LONDON = ZoneInfo("Europe/London")

# Published Scottish bank holidays.
PUBLISHED = {
    2025: {
        date(2025, 1, 1),
        date(2025, 1, 2),
        date(2025, 4, 18),
        date(2025, 5, 5),
        date(2025, 5, 26),
        date(2025, 8, 4),
        date(2025, 12, 1),
        date(2025, 12, 25),
        date(2025, 12, 26),
    },
    2026: {
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 4, 3),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 3),
        date(2026, 11, 30),
        date(2026, 12, 25),
        date(2026, 12, 28),
    },
    2027: {
        date(2027, 1, 1),
        date(2027, 1, 4),
        date(2027, 3, 26),
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 2),
        date(2027, 11, 30),
        date(2027, 12, 27),
        date(2027, 12, 28),
    },
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_bank_holidays_match_the_published_dates(year: int) -> None:
    assert scottish_bank_holidays(year) == PUBLISHED[year]


def test_a_letter_handed_over_on_monday_arrives_on_friday() -> None:
    # Posted Tuesday 17 March; three working days: Wednesday, Thursday, Friday.
    arrival = letter_arrival(datetime(2026, 3, 16, 11, 0, tzinfo=LONDON), "Europe/London")
    assert arrival.date() == date(2026, 3, 20)


def test_a_letter_on_friday_is_posted_monday_and_arrives_thursday() -> None:
    arrival = letter_arrival(datetime(2026, 3, 20, 11, 0, tzinfo=LONDON), "Europe/London")
    assert arrival.date() == date(2026, 3, 26)


def test_easter_and_a_bank_holiday_slow_a_letter_down() -> None:
    # Thursday 2 April 2026: Good Friday (3rd) is no posting day, so it is posted Monday 6
    # (Easter Monday is not a Scottish bank holiday) and delivered on Thursday 9.
    assert date(2026, 4, 3) in scottish_bank_holidays(2026)
    assert date(2026, 4, 6) not in scottish_bank_holidays(2026)
    arrival = letter_arrival(datetime(2026, 4, 2, 11, 0, tzinfo=LONDON), "Europe/London")
    assert arrival.date() == date(2026, 4, 9)


def test_neither_saturday_nor_sunday_counts_for_delivery() -> None:
    # Wednesday: posted Thursday, delivered Friday, Monday, Tuesday (no Saturday post
    # for second class since July 2025).
    arrival = letter_arrival(datetime(2026, 3, 18, 11, 0, tzinfo=LONDON), "Europe/London")
    assert arrival.date() == date(2026, 3, 24)


def test_a_bank_holiday_is_no_delivery_day() -> None:
    # Wednesday 29 April 2026: posted Thursday 30, delivered Friday 1, then Monday 4 May
    # is the early May bank holiday, so Tuesday 5 and Wednesday 6.
    arrival = letter_arrival(datetime(2026, 4, 29, 11, 0, tzinfo=LONDON), "Europe/London")
    assert arrival.date() == date(2026, 5, 6)

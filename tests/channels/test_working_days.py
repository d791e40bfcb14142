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


def test_a_letter_handed_over_on_monday_arrives_on_thursday() -> None:
    arrival = letter_arrival(datetime(2026, 3, 16, 11, 0, tzinfo=LONDON))
    assert arrival.date() == date(2026, 3, 19)


def test_a_letter_on_friday_is_posted_monday_and_arrives_wednesday() -> None:
    arrival = letter_arrival(datetime(2026, 3, 20, 11, 0, tzinfo=LONDON))
    assert arrival.date() == date(2026, 3, 25)


def test_easter_and_a_bank_holiday_slow_a_letter_down() -> None:
    # Thursday 2 April 2026: Good Friday (3rd) is no posting day, Monday posts,
    # Tuesday and Wednesday deliver.
    arrival = letter_arrival(datetime(2026, 4, 2, 11, 0, tzinfo=LONDON))
    assert arrival.date() == date(2026, 4, 8)


def test_saturday_counts_for_delivery_but_sunday_does_not() -> None:
    # Wednesday: posted Thursday, delivered Friday and Saturday.
    arrival = letter_arrival(datetime(2026, 3, 18, 11, 0, tzinfo=LONDON))
    assert arrival.date() == date(2026, 3, 21)

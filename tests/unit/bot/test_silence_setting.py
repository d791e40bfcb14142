"""LINKLINE_SILENCE_DAYS: how long without a sign of life before a person checks in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_the_silence_period_is_ninety_days_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).silence_days == 90  # type: ignore[call-arg]
    monkeypatch.setenv("LINKLINE_SILENCE_DAYS", "60")
    assert Settings(_env_file=None).silence_days == 60  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["13", "366", "a while"])
def test_a_silence_period_too_short_too_long_or_not_a_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LINKLINE_SILENCE_DAYS", value)
    with pytest.raises(ValidationError, match="LINKLINE_SILENCE_DAYS"):
        Settings(_env_file=None)  # type: ignore[call-arg]

"""Checks on one expert's details, as a link worker would meet them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.builders import expert_input


@pytest.mark.parametrize("zone", ["posix/Europe/London", "localtime", "Factory", "Mars/Olympus"])
def test_a_time_zone_the_safe_hours_cannot_use_is_refused_when_saved(zone: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        expert_input(time_zone=zone)


def test_an_unknown_fallback_channel_is_named() -> None:
    with pytest.raises(ValidationError, match="unknown channel 'pigeon'"):
        expert_input(fallback_channels="email;pigeon", email="ana@example.net")

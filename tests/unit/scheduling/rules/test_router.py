"""The router's choices, rule by rule, with the reason an administrator will read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.dryrun import DryRunChannel
from channels.registry import DEFAULT_LIMITS, SENDABLE, ChannelRegistry
from scheduling.rules.router import choose_route
from store.enums import Channel
from store.models import ChannelConsent, ContactPoint, Expert

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 1, 5, tzinfo=UTC)
ADDRESSES = {
    Channel.SMS: "+447123456789",
    Channel.PHONE: "+447123456789",
    Channel.TELEGRAM: "5550001",
    Channel.EMAIL: "ana@example.net",
    Channel.LETTER: "Flat 2\n8 Sample Road\nDundee DD1 1AA",
}


def expert(
    order: list[Channel], consented: list[Channel] | None = None, **points: object
) -> Expert:
    """An in-memory expert: the router reads only what is loaded."""
    consented = order if consented is None else consented
    person = Expert(preferred_channel=order[0], fallback_channels=[c.value for c in order[1:]])
    person.consents = [
        ChannelConsent(channel=c, allowed=True, confirmed_on=date(2026, 1, 5)) for c in consented
    ]
    person.contact_points = [
        ContactPoint(
            channel=c,
            value=ADDRESSES[c],
            verified_at=points.get(f"{c.value}_verified", VERIFIED),
            opted_out_at=points.get(f"{c.value}_opted_out"),
            opt_out_reason="replied STOP" if points.get(f"{c.value}_opted_out") else None,
        )
        for c in order
        if not points.get(f"{c.value}_missing")
    ]
    return person


@pytest.fixture
def channels(tmp_path: Path) -> ChannelRegistry:
    return dry_run_registry(tmp_path)


def dry_run_registry(folder: Path) -> ChannelRegistry:
    """Every machine channel as files: the router only reads their limits and timing."""
    return ChannelRegistry(
        DryRunChannel(k, folder / k.value, DEFAULT_LIMITS[k], postal_tz="Europe/London")
        for k in SENDABLE
    )


def test_the_preferred_channel_is_used_when_it_is_safe(channels: ChannelRegistry) -> None:
    decision = choose_route(expert([Channel.SMS, Channel.EMAIL]), channels, now=NOW, deadline=None)
    assert decision.route is not None and decision.route.channel is Channel.SMS
    assert "preferred channel" in decision.explain()


@pytest.mark.parametrize(
    ("person", "why"),
    [
        (
            expert([Channel.SMS, Channel.EMAIL], consented=[Channel.EMAIL]),
            "sms skipped: nobody has confirmed it is safe",
        ),
        (expert([Channel.SMS, Channel.EMAIL], sms_missing=True), "sms skipped: no contact details"),
        (
            expert([Channel.SMS, Channel.EMAIL], sms_opted_out=NOW),
            "sms skipped: not to be used (replied STOP)",
        ),
        (
            expert([Channel.SMS, Channel.EMAIL], sms_verified=None),
            "sms skipped: contact details not verified",
        ),
    ],
)
def test_an_unsafe_or_unusable_channel_falls_back_and_says_why(
    channels,
    person: Expert,
    why: str,  # type: ignore[no-untyped-def]
) -> None:
    decision = choose_route(person, channels, now=NOW, deadline=None)
    assert decision.route is not None and decision.route.channel is Channel.EMAIL
    assert why in decision.explain()
    assert "fallback 1" in decision.explain()


def test_a_channel_that_is_not_set_up_here_is_skipped(tmp_path: Path) -> None:
    only_email = ChannelRegistry([dry_run_registry(tmp_path)[Channel.EMAIL]])
    decision = choose_route(
        expert([Channel.TELEGRAM, Channel.EMAIL]), only_email, now=NOW, deadline=None
    )
    assert decision.route is not None and decision.route.channel is Channel.EMAIL
    assert "telegram skipped: not set up on this system" in decision.explain()


def test_a_channel_that_already_failed_for_good_is_not_tried_again(
    channels: ChannelRegistry,
) -> None:
    decision = choose_route(
        expert([Channel.SMS, Channel.EMAIL]),
        channels,
        now=NOW,
        deadline=None,
        exclude={Channel.SMS},
    )
    assert decision.route is not None and decision.route.channel is Channel.EMAIL
    assert "already failed" in decision.explain()


def test_nothing_usable_means_no_route_and_every_reason(channels: ChannelRegistry) -> None:
    decision = choose_route(
        expert([Channel.SMS, Channel.EMAIL], consented=[]), channels, now=NOW, deadline=None
    )
    assert decision.route is None
    assert decision.explain().count("nobody has confirmed") == 2


def test_phone_needs_no_machine_channel(channels: ChannelRegistry) -> None:
    decision = choose_route(expert([Channel.PHONE]), channels, now=NOW, deadline=None)
    assert decision.route is not None and decision.route.channel is Channel.PHONE


def test_a_letter_is_chosen_only_when_it_can_arrive_in_time(channels: ChannelRegistry) -> None:
    person = expert([Channel.LETTER, Channel.PHONE])
    monday = datetime(2026, 3, 16, 11, 0, tzinfo=LONDON)  # arrives Friday 20th
    in_time = choose_route(
        person, channels, now=monday, deadline=datetime(2026, 3, 23, 10, 0, tzinfo=LONDON)
    )
    assert in_time.route is not None and in_time.route.channel is Channel.LETTER
    too_slow = choose_route(
        person, channels, now=monday, deadline=datetime(2026, 3, 20, 10, 0, tzinfo=LONDON)
    )
    assert too_slow.route is not None and too_slow.route.channel is Channel.PHONE
    assert "letter skipped: would not arrive in time" in too_slow.explain()


def test_a_scottish_bank_holiday_makes_a_letter_too_slow(channels: ChannelRegistry) -> None:
    """Thursday before Easter 2026: nothing posts on Good Friday, so it arrives Thursday 9th."""
    person = expert([Channel.LETTER, Channel.PHONE])
    thursday = datetime(2026, 4, 2, 11, 0, tzinfo=LONDON)
    tuesday_meeting = datetime(2026, 4, 7, 14, 0, tzinfo=LONDON)
    decision = choose_route(person, channels, now=thursday, deadline=tuesday_meeting)
    assert decision.route is not None and decision.route.channel is Channel.PHONE
    thursday_meeting = datetime(2026, 4, 9, 18, 0, tzinfo=LONDON)
    decision = choose_route(person, channels, now=thursday, deadline=thursday_meeting)
    assert decision.route is not None and decision.route.channel is Channel.LETTER

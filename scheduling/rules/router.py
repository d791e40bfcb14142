"""Choosing a channel for one message, and saying why.

Channels are tried in the expert's order of preference. A channel is skipped when nobody
has confirmed it is safe for this person (deny by default), when there is no verified
contact point, when they opted out, when it is not set up here, when it cannot arrive in
time, or when it already failed for good on this message. Phone is a channel too: it
means a person makes the contact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from channels.base import MessageChannel
from store.enums import Channel
from store.models import ContactPoint, Expert


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str  # decrypted contact point; phone calls carry the number for the script
    details_safe: bool
    reason: str


@dataclass(frozen=True)
class RoutingDecision:
    route: Route | None
    skipped: list[str] = field(default_factory=list)

    def explain(self) -> str:
        if self.route is None:
            return "; ".join(self.skipped) or "the expert has no channels set"
        return "; ".join([self.route.reason, *self.skipped])


def choose_route(
    expert: Expert,
    channels: Mapping[Channel, MessageChannel],
    *,
    now: datetime,
    deadline: datetime | None,
    exclude: Collection[Channel] = (),
) -> RoutingDecision:
    consents = {c.channel: c for c in expert.consents}
    points: dict[Channel, ContactPoint] = {p.channel: p for p in expert.contact_points}
    skipped: list[str] = []
    order = expert.channel_order()
    for position, channel in enumerate(order):
        label = "preferred channel" if position == 0 else f"fallback {position}"
        consent = consents.get(channel)
        point = points.get(channel)
        why_not = _why_not(channel, consent, point, channels, now, deadline, exclude)
        if why_not:
            skipped.append(f"{channel.value} skipped: {why_not}")
            continue
        assert consent is not None and point is not None
        reason = f"{channel.value}: {label}, consent confirmed {consent.confirmed_on.isoformat()}"
        return RoutingDecision(Route(channel, point.value, consent.details_safe, reason), skipped)
    return RoutingDecision(None, skipped)


def _why_not(
    channel: Channel,
    consent: object,
    point: ContactPoint | None,
    channels: Mapping[Channel, MessageChannel],
    now: datetime,
    deadline: datetime | None,
    exclude: Collection[Channel],
) -> str | None:
    if channel in exclude:
        return "already failed for this message"
    if consent is None or not getattr(consent, "allowed", False):
        return "nobody has confirmed it is safe for this person"
    if point is None:
        return "no contact details"
    if point.opted_out_at is not None:
        return f"not to be used ({point.opt_out_reason or 'no reason given'})"
    if point.verified_at is None:
        return "contact details not verified"
    if channel is Channel.PHONE:
        return None
    sender = channels.get(channel)
    if sender is None:
        return "not set up on this system"
    if deadline is not None and sender.earliest_arrival(now) > deadline:
        return "would not arrive in time"
    return None

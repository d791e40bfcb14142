"""Choosing a channel for one message, and saying why.

Channels are tried in the expert's order of preference. A channel is skipped when nobody
has confirmed it is safe for this person (deny by default), when there is no verified
contact point, when they opted out, when it is not set up here, when it cannot arrive in
time, when it already failed for good on this message, or (for letters) while a new
postal address waits for a second person and nobody said the old one is still safe.
Phone is a channel too: it means a person makes the contact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from channels.base import MessageChannel
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.windows import WindowError, next_allowed
from store.enums import Channel
from store.models import ChannelConsent, ContactPoint, Expert

LETTERS_HELD = (
    "held: a new postal address is waiting for a second person to confirm it, and nobody "
    "has said the old address is still safe"
)


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
        if why_not is None and channel is Channel.LETTER and letters_held(expert):
            why_not = LETTERS_HELD
        if why_not:
            skipped.append(f"{channel.value} skipped: {why_not}")
            continue
        assert consent is not None and point is not None
        reason = f"{channel.value}: {label}, consent confirmed {consent.confirmed_on.isoformat()}"
        return RoutingDecision(Route(channel, point.value, consent.details_safe, reason), skipped)
    return RoutingDecision(None, skipped)


def letters_held(expert: Expert) -> bool:
    """A letter could land at a home the person has left: while a new address waits for
    a second person, letters wait too, unless the requester said the old one is safe."""
    return any(
        change.channel is Channel.LETTER and not change.old_address_safe
        for change in expert.waiting_changes
    )


def reachable(expert: Expert, channel: Channel, *, hold_letters: bool = True) -> bool:
    """Consent confirmed, contact details verified and not opted out: the person-level
    half of routing, without timing (what a plan can count on). ``hold_letters=False``
    asks about their channels in the long run, past an address change now waiting."""
    consent = next((c for c in expert.consents if c.channel is channel), None)
    point = next((p for p in expert.contact_points if p.channel is channel), None)
    if hold_letters and channel is Channel.LETTER and letters_held(expert):
        return False
    return _person_why_not(consent, point) is None


def _person_why_not(consent: ChannelConsent | None, point: ContactPoint | None) -> str | None:
    if consent is None or not consent.allowed:
        return "nobody has confirmed it is safe for this person"
    if point is None:
        return "no contact details"
    if point.opted_out_at is not None:
        return f"not to be used ({point.opt_out_reason or 'no reason given'})"
    if point.verified_at is None:
        return "contact details not verified"
    return None


def _why_not(
    channel: Channel,
    consent: ChannelConsent | None,
    point: ContactPoint | None,
    channels: Mapping[Channel, MessageChannel],
    now: datetime,
    deadline: datetime | None,
    exclude: Collection[Channel],
) -> str | None:
    if channel in exclude:
        return "already failed for this message"
    person = _person_why_not(consent, point)
    if person is not None:
        return person
    if channel is Channel.PHONE:
        return None
    sender = channels.get(channel)
    if sender is None:
        return "not set up on this system"
    if deadline is not None and sender.earliest_arrival(now) > deadline:
        return "would not arrive in time"
    return None


# A call depends on a person being free; a text in someone's safe hours is quicker.
CALL_TAKES = timedelta(hours=4)


def fastest_route(
    expert: Expert,
    channels: Mapping[Channel, MessageChannel],
    deadline: datetime | None,
    exclude: Collection[Channel],
    now: datetime,
) -> RoutingDecision:
    """News that changes someone's plans goes on whichever usable channel reaches them
    first (their safe hours and the post included); preference breaks ties."""
    tried = set(exclude)
    preferred = choose_route(expert, channels, now=now, deadline=deadline, exclude=tried)
    best, best_arrival = preferred, _arrival(expert, preferred.route, channels, now)
    current = preferred
    while current.route is not None:
        tried.add(current.route.channel)
        current = choose_route(expert, channels, now=now, deadline=deadline, exclude=tried)
        arrival = _arrival(expert, current.route, channels, now)
        if arrival is not None and (best_arrival is None or arrival < best_arrival):
            best, best_arrival = current, arrival
    if best.route is not None and best is not preferred:
        reason = f"{best.route.reason}; the fastest way to reach them"
        best = RoutingDecision(replace(best.route, reason=reason), preferred.skipped)
    return best


def _arrival(
    expert: Expert,
    route: Route | None,
    channels: Mapping[Channel, MessageChannel],
    now: datetime,
) -> datetime | None:
    if route is None:
        return None
    if route.channel is Channel.PHONE:
        return now + CALL_TAKES
    sender = channels.get(route.channel)
    try:
        allowed = next_allowed(now, contact_rules(expert, route.channel, now))
    except WindowError:
        return None
    if sender is None or allowed is None:
        return None
    return sender.earliest_arrival(allowed)

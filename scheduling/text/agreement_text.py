"""What a welcome and a "how we'll contact you" summary say about one person's contact:
the ways we use, the safe times, and how often we keep in touch, in words for them."""

from __future__ import annotations

from typing import Any

from scheduling.rules.contact_rules import safe_windows
from scheduling.rules.windows import WindowError
from store.enums import Channel, PastoralLevel
from store.models import Expert

# How each way of contact reads to the person themselves.
_WAYS = {
    Channel.SMS: "text message",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "email",
    Channel.LETTER: "letter",
    Channel.PHONE: "a phone call",
}
_HOW_OFTEN = {
    PastoralLevel.OFF: "only when there is something to tell you",
    PastoralLevel.MONTHLY: "about once a month",
    PastoralLevel.FORTNIGHTLY: "about every two weeks",
    PastoralLevel.WEEKLY: "about once a week",
}


def how_often(level: PastoralLevel) -> str:
    """How often we keep in touch, as the person reads it: "about once a month"."""
    return _HOW_OFTEN[level]


def agreement_context(expert: Expert) -> dict[str, Any]:
    """``channels``, ``safe_times`` and ``keeping_in_touch``, never blank: a person with no
    agreed way yet reads that we will check with them first."""
    agreed = {c.channel for c in expert.consents if c.allowed}
    order = [c for c in expert.channel_order() if c in agreed]
    ways = [_WAYS[c] for c in order]
    if not ways:
        channels = "no way yet: we will check with you first"
    elif len(ways) == 1:
        channels = ways[0]
    else:
        channels = f"{ways[0]}, or else {', or '.join(ways[1:])}"
    try:
        windows = safe_windows(expert, order[0] if order else expert.preferred_channel)
        safe_times = "; ".join(w.describe() for w in windows)
    except WindowError:
        safe_times = "the times we agree with you"
    return {
        "channels": channels,
        "safe_times": safe_times,
        "keeping_in_touch": _HOW_OFTEN[expert.pastoral_level],
    }

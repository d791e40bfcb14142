"""The one decision for every word that reaches an expert, with no I/O.

Scheduled messages, immediate answers to a reply, the support lines and anything staff
type all meet the same rules here: consent confirmed for that channel, not opted out,
not withdrawn, the hold after a worrying reply, the safe window, and the discreet word
list on a channel not safe for details. Scheduled messages have met ``decide()`` first
(pause, answers, deadlines, the cap, routing); the gate is the last word before ``send``.

Reasons are plain sentences for staff: which rule, and for the word list which word,
never the text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.discreet_words import BlockedWords
from scheduling.rules.windows import WindowError, next_allowed
from store.enums import Channel, ExpertStatus, Purpose
from store.models import Expert


class Kind(Enum):
    """What is being said, which decides the few exemptions."""

    SCHEDULED = "a planned message"
    ANSWER = "an automatic answer to their text"
    STOP_ANSWER = "the answer to their STOP"
    SUPPORT_LINES = "the support lines after a worrying reply"
    LINKED = "the answer to linking their chat"
    STAFF_TEXT = "words typed by staff"


@dataclass(frozen=True)
class Outbound:
    kind: Kind
    channel: Channel
    text: str  # the final rendered words, subject and body
    # An answer to a text the person has just sent, on the channel they used: they hold
    # the phone, so the safe window does not apply.
    immediate: bool = False
    purpose: Purpose | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    word: str | None = None  # the blocked word that stopped it


ALLOWED = Verdict(True)


def details_safe(expert: Expert | None, channel: Channel) -> bool:
    """Full details may go only where a person confirmed it with them; strangers never."""
    if expert is None:
        return False
    if not expert.discreet:
        return True
    consent = next((c for c in expert.consents if c.channel is channel), None)
    return consent is not None and consent.allowed and consent.details_safe


def check(expert: Expert | None, out: Outbound, blocked: BlockedWords, now: datetime) -> Verdict:
    """Whether ``out`` may go to ``expert`` (None: a sender we don't know) now."""
    if expert is None:
        if not out.immediate:
            return Verdict(False, "nobody we know is at the other end")
        return _words(expert, out, blocked)
    refusal = _person(expert, out) or _hold(expert, out) or _window(expert, out, now)
    return refusal or _words(expert, out, blocked)


def _person(expert: Expert, out: Outbound) -> Verdict | None:
    # Their link worker's goodbye, written and approved by them, is the one exception.
    if expert.status is ExpertStatus.WITHDRAWN and out.purpose is not Purpose.GOODBYE:
        return Verdict(False, "they have withdrawn, so nothing more is sent")
    consent = next((c for c in expert.consents if c.channel is out.channel), None)
    # Linking a chat is their own act with a code we gave them: the answer says only that
    # it worked, and consent for the chat is recorded after a person talked it through.
    if out.kind is not Kind.LINKED and (consent is None or not consent.allowed):
        return Verdict(False, "nobody has confirmed with them that this way is safe")
    point = next((p for p in expert.contact_points if p.channel is out.channel), None)
    if point is not None and point.opted_out_at is not None and out.kind is not Kind.STOP_ANSWER:
        return Verdict(False, f"they asked us to stop this way ({point.opt_out_reason or 'STOP'})")
    return None


def _hold(expert: Expert, out: Outbound) -> Verdict | None:
    """Only the support lines and cancellation news pass the hold after a worrying reply."""
    if expert.held_since is None or out.kind is Kind.SUPPORT_LINES:
        return None
    if out.kind is Kind.SCHEDULED and out.purpose is Purpose.CANCELLATION:
        return None
    return Verdict(False, "messages are on hold after a worrying reply until a person has looked")


def _window(expert: Expert, out: Outbound, now: datetime) -> Verdict | None:
    if out.immediate or out.channel is Channel.PHONE:
        return None  # a call is made by a person, in the safe times on their task
    try:
        allowed_at = next_allowed(now, contact_rules(expert, out.channel, now))
    except WindowError:
        return Verdict(False, "their safe-contact times cannot be used")
    if allowed_at is None or allowed_at > now:
        return Verdict(False, "it is outside their safe times")
    return None


def _words(expert: Expert | None, out: Outbound, blocked: BlockedWords) -> Verdict:
    if details_safe(expert, out.channel):
        return ALLOWED
    word = blocked.first_in(out.text)
    if word is None:
        return ALLOWED
    return Verdict(
        False,
        f"it contains \u201c{word}\u201d, which must not appear where others may read it",
        word,
    )

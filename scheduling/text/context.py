"""What a template and the window rules need to know about one message's person."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.clock import local_today
from scheduling.rules.cover import responsible_staff
from scheduling.rules.given import given
from scheduling.rules.payments import Offer, pounds
from scheduling.rules.promises import can_follow_up
from scheduling.rules.questions import asks_for_answer
from scheduling.rules.reach import reach_of
from scheduling.rules.wording import clock_time, spoken_datetime, spoken_day
from scheduling.text.agreement_text import agreement_context
from store.enums import EXPENSES, PaymentPurpose, Purpose
from store.models import Engagement, Expert, Message

# A details message's ``variant``: what the promise it keeps was about.
ABOUT_OUTCOMES = 1

# What staff typed about an engagement. Each is None when not given (blank, or "None"):
# a template shows an optional one only `{% if %}` it is there, and the renderer refuses
# to print a None, so a required one that is missing stops the message for a person.
ENGAGEMENT_DETAILS = (
    "purpose",
    "objectives",
    "expected_outcomes",
    "venue_name",
    "venue_address",
    "venue_accessibility",
    "online_link",
    "meeting_point",
    "practitioners",
    "transport_and_expenses",
    "how_to_claim",
    "paperwork",
    "outcomes",
)


def first_name(full: str) -> str:
    return full.split()[0] if full.strip() else full


def signature(expert: Expert, on: datetime) -> str:
    """Messages come from the person the expert knows, or say plainly who is covering."""
    worker = expert.link_worker
    staff = responsible_staff(worker, local_today(on, expert.time_zone))
    if staff.id != worker.id:
        return f"{first_name(staff.name)}, covering for {first_name(worker.name)}"
    return first_name(worker.name)


def engagement_offer(engagement: Engagement) -> Offer:
    """The offer an engagement carries itself (none until set or published)."""
    if engagement.offer_kind is None:
        return Offer()
    covered = {p.value for p in EXPENSES}
    return Offer(
        engagement.offer_kind,
        engagement.offer_pence,
        tuple(PaymentPurpose(e) for e in engagement.expenses_covered if e in covered),
        engagement.expense_limit_pence,
    )


def template_context(message: Message, details_safe: bool, now: datetime) -> dict[str, Any]:
    expert = message.expert
    context: dict[str, Any] = {
        "name": expert.preferred_name,
        "worker": signature(expert, now),
        "details": (not expert.discreet) or details_safe,
        "variant": message.variant or 0,
        "note": given(message.personal_note),
        "ask_answer": asks_for_answer(message),
        # Someone reached only by post gets no reminder letter (it could not arrive in
        # time): their pre-brief letter is the reminder too.
        "carries_reminder": message.purpose is Purpose.PRE_BRIEF and reach_of(expert).post_only,
        # Only promise a follow-up that something can keep; a details message promises none.
        "follow_up": message.purpose is not Purpose.DETAILS and can_follow_up(expert),
        "about_outcomes": message.purpose is Purpose.DETAILS and message.variant == ABOUT_OUTCOMES,
        # A payment notice's variant is the amount paid, in pence (shown only with details).
        "amount": pounds(message.variant or 0) if message.purpose is Purpose.PAYMENT_SENT else "",
    }
    if message.purpose in (Purpose.WELCOME, Purpose.AGREEMENT):
        context.update(agreement_context(expert))
    engagement = message.engagement
    if engagement is not None:
        tz = expert.time_zone
        local_end = engagement.ends_at.astimezone(ZoneInfo(tz))
        context.update(
            title=engagement.title,
            when=spoken_datetime(engagement.starts_at, tz),
            day=spoken_day(engagement.starts_at, tz),
            ends=clock_time(time(local_end.hour, local_end.minute)),
            day_of_meeting=f"{engagement.starts_at.astimezone(ZoneInfo(tz)):%A}",
            **{name: given(getattr(engagement, name)) for name in ENGAGEMENT_DETAILS},
            # What it pays, in plain words (set, or copied from its kind's default, when
            # it was published); shown only where the details are.
            offer=" ".join(engagement_offer(engagement).sentences()) or None,
        )
    return context

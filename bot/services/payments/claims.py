"""What staff record: an engagement's offer, a person's payment choice, the time owed after
they came, and the expenses they claim. Each checks what a person typed and refuses it
with a sentence before anything changes."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.profile import find_expert
from scheduling.people import ledger
from scheduling.people.offers import offer_for, set_offer
from scheduling.people.tasks import open_task
from scheduling.planning.planner import load_engagement
from scheduling.rules.payments import (
    Offer,
    PaymentChoice,
    PaymentError,
    parse_amount,
    pounds,
    read_choice,
)
from scheduling.text.words import in_sentence, label
from store import audit
from store.enums import (
    EXPENSES,
    OfferKind,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    TaskKind,
)
from store.models import Engagement, Expert, Invitation, PaymentLine

E = TypeVar("E", OfferKind, PaymentPurpose, PaymentMethod)


def _choose(kind: type[E], text: str, what: str) -> E:
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    for member in kind:
        if key in (member.value, member.name.lower()):
            return member
    names = ", ".join(m.value.replace("_", "-") for m in kind)
    raise PaymentError(f"{text.strip()[:30]!r} is not a {what}: use one of {names}", field=what)


def parse_purpose(text: str) -> PaymentPurpose:
    return _choose(PaymentPurpose, text, "purpose")


def parse_method(text: str) -> PaymentMethod:
    return _choose(PaymentMethod, text, "method")


def parse_offer(kind: str, amount: str, covers: str, limit: str) -> Offer:
    """An offer from what a person typed: a kind, an amount, expenses, a limit."""
    offer_kind = _choose(OfferKind, kind or "none", "offer")
    pence = parse_amount(amount or "0") if offer_kind is not OfferKind.NONE else 0
    if offer_kind is not OfferKind.NONE and pence == 0:
        raise PaymentError("Say how much the offer is, for example 25.00", field="amount")
    expenses = tuple(
        dict.fromkeys(parse_purpose(p) for p in covers.replace(";", ",").split(",") if p.strip())
    )
    if any(e not in EXPENSES for e in expenses):
        raise PaymentError(
            "Only travel, childcare, carer, meals and other are expenses", field="covers"
        )
    limit_pence = parse_amount(limit, field_name="limit") if limit.strip() else None
    return Offer(offer_kind, pence, expenses, limit_pence)


async def engagement_for(session: AsyncSession, engagement_id: int) -> Engagement:
    engagement = await load_engagement(session, engagement_id)
    if engagement is None:
        raise PaymentError(f"There is no engagement {engagement_id}")
    return engagement


async def invitation_for(session: AsyncSession, engagement_id: int, expert_key: str) -> Invitation:
    """One person's invitation, found by the engagement's number and their reference."""
    engagement = await engagement_for(session, engagement_id)
    expert = await find_expert(session, expert_key.strip())
    if expert is None:
        raise PaymentError(f"There is no expert {expert_key.strip()[:40]!r}")
    invitation = next((i for i in engagement.invitations if i.expert_id == expert.id), None)
    if invitation is None:
        raise PaymentError(
            f"Expert {expert_key.strip()} was not invited to engagement {engagement_id}"
        )
    return invitation


async def change_offer(
    session: AsyncSession, engagement: Engagement, offer: Offer, *, now: datetime, actor: str
) -> None:
    set_offer(session, engagement, offer, now=now, actor=actor)


async def record_claim(
    session: AsyncSession,
    invitation: Invitation,
    purpose: PaymentPurpose,
    amount: str,
    *,
    now: datetime,
    actor: str,
    what_for: str = "",
    receipt_seen: bool = False,
    reason: str = "",
) -> PaymentLine:
    """An expense (or time) claimed: a new line, or a new amount on the existing one,
    which needs the reason it changed. Over the offer's limit it is refused."""
    pence = parse_amount(amount)
    engagement = await session.get_one(Engagement, invitation.engagement_id)
    offer = await offer_for(session, engagement)
    if purpose in EXPENSES and offer.limit_pence is not None and pence > offer.limit_pence:
        raise PaymentError(
            f"{pounds(pence)} is more than this engagement pays for "
            f"{in_sentence(purpose)} ({pounds(offer.limit_pence)}): agree it first, then "
            "change the engagement's offer",
            field="amount",
        )
    existing = next(
        (line for line in await ledger.lines_for(session, engagement_id=invitation.engagement_id)
         if line.invitation_id == invitation.id and line.purpose is purpose),
        None,
    )  # fmt: skip
    if existing is None:
        return await ledger.open_line(
            session, invitation, purpose, pence, now=now, actor=actor,
            what_for=what_for, receipt_seen=receipt_seen,
        )  # fmt: skip
    if not reason.strip() and existing.amount_pence == 0:
        reason = "First amount recorded"
    await ledger.change_amount(session, existing, pence, reason, now=now, actor=actor)
    if what_for.strip():
        existing.what_for = what_for.strip()[:500]
    existing.receipt_seen = existing.receipt_seen or receipt_seen
    return existing


async def after_attendance(
    session: AsyncSession, engagement: Engagement, invitation: Invitation, now: datetime, actor: str
) -> PaymentLine | None:
    """They came: their time is owed from the offer, and the lead records the rest."""
    offer = await offer_for(session, engagement)
    await open_task(
        session,
        kind=TaskKind.RECORD_PAYMENTS,
        title="Record time and expenses owed",
        details=f"People came to {engagement.title}. Record what each spent (travel, "
        "childcare, a carer, meals) and check the time owed, then approve what is right.",
        assignee=engagement.lead,
        engagement=engagement,
        now=now,
        dedupe_key=f"eng{engagement.id}:record-payments",
    )
    pence = offer.time_owed(engagement.ends_at - engagement.starts_at)
    line = await _time_line(session, invitation)
    if line is not None:
        if line.status is PaymentStatus.OWED and line.amount_pence == 0 and pence:
            await ledger.change_amount(
                session, line, pence, "Recorded as attending", now=now, actor=actor
            )
        return line
    if pence == 0:
        return None
    return await ledger.open_line(
        session, invitation, PaymentPurpose.TIME, pence, now=now, actor=actor,
        what_for=label(offer.kind),
    )  # fmt: skip


async def _time_line(session: AsyncSession, invitation: Invitation) -> PaymentLine | None:
    return next(
        (line for line in await ledger.lines_for(session, engagement_id=invitation.engagement_id)
         if line.invitation_id == invitation.id and line.purpose is PaymentPurpose.TIME),
        None,
    )  # fmt: skip


async def withdraw_time(
    session: AsyncSession, invitation: Invitation, now: datetime, actor: str
) -> None:
    """Marked as missed after all: time not yet approved is no longer owed (kept at £0.00,
    with the reason, so the record shows what happened)."""
    line = await _time_line(session, invitation)
    if line is not None and line.status is PaymentStatus.OWED and line.amount_pence:
        await ledger.change_amount(
            session, line, 0, "Recorded as not attending", now=now, actor=actor
        )


async def set_choice(
    session: AsyncSession, expert: Expert, choice: PaymentChoice, *, now: datetime, actor: str
) -> None:
    """Keep how they chose to be paid (encrypted, staff only); asked, never guessed."""
    if choice.method is not PaymentMethod.VOUCHER and choice.voucher_kind:
        choice = PaymentChoice(choice.method, "", choice.note)
    expert.payment_preference = choice.stored()
    expert.updated_at = now
    audit.record(
        session, actor=actor, action="expert.payment_choice", entity="expert",
        entity_id=expert.id, at=now,
    )  # fmt: skip


def choice_of(expert: Expert) -> PaymentChoice:
    return read_choice(expert.payment_preference)

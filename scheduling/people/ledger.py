"""The ledger: one line per invitation and purpose, moved owed -> approved -> paid, or
declined with a reason the person is given.

Every step checks the line's state under a row lock (PostgreSQL; SQLite has one writer),
so two people paying the same line at once pay it once. An amount changes only with a
reason, kept beside the line. A refusal changes nothing: the caller's transaction rolls
back. Settling a cancellation's costs keeps the promise the cancellation notice made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.people.tasks import open_task
from scheduling.rules.payments import PaymentError, can_move, check_pence, pounds
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store import audit
from store.enums import PaymentPurpose, PaymentStatus, TaskKind
from store.models import Engagement, Expert, Invitation, PaymentChange, PaymentLine, Promise

_REF = re.compile(r"^(?:ll)?0*(\d{1,9})$")
_LOADED = (
    selectinload(PaymentLine.invitation)
    .selectinload(Invitation.expert)
    .selectinload(Expert.link_worker),
    selectinload(PaymentLine.invitation).selectinload(Invitation.engagement),
)


def parse_reference(text: str) -> int:
    match = _REF.match(str(text).strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise PaymentError(
            f"{str(text).strip()[:20]!r} is not a payment reference: they look like LL000012",
            field="reference",
        )
    return int(match.group(1))


async def find_line(
    session: AsyncSession, reference: str | int, *, lock: bool = False
) -> PaymentLine:
    """The line with this reference (LL000012 or 12), or a refusal naming it."""
    line_id = reference if isinstance(reference, int) else parse_reference(reference)
    query = select(PaymentLine).where(PaymentLine.id == line_id).options(*_LOADED)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    line = await session.scalar(query)
    if line is None:
        raise PaymentError(f"There is no payment with the reference LL{line_id:06d}")
    return line


async def open_line(
    session: AsyncSession,
    invitation: Invitation,
    purpose: PaymentPurpose,
    pence: int,
    *,
    now: datetime,
    actor: str,
    what_for: str | None = None,
    receipt_seen: bool = False,
) -> PaymentLine:
    """A new line owed; refused when this person already has one for this purpose."""
    check_pence(pence)
    existing = await session.scalar(
        select(PaymentLine).where(
            PaymentLine.invitation_id == invitation.id, PaymentLine.purpose == purpose
        )
    )
    if existing is not None:
        raise PaymentError(
            f"{label_of(purpose)} is already in the ledger for this person and engagement "
            f"({existing.reference}): change that amount instead, with a reason"
        )
    line = PaymentLine(
        invitation_id=invitation.id,
        purpose=purpose,
        status=PaymentStatus.OWED,
        amount_pence=pence,
        what_for=(what_for or "").strip()[:500] or None,
        receipt_seen=receipt_seen,
        created_at=now,
        created_by=actor,
    )
    session.add(line)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="payment.opened",
        entity="payment_line",
        entity_id=line.id,
        at=now,
        purpose=purpose.value,
        pence=pence,
    )
    return line


def label_of(purpose: PaymentPurpose) -> str:
    text = in_sentence(purpose)
    return text[:1].upper() + text[1:]


async def change_amount(
    session: AsyncSession, line: PaymentLine, pence: int, reason: str, *, now: datetime, actor: str
) -> bool:
    """Change what a line is for, keeping the reason; False when it was that already."""
    check_pence(pence)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError(
            "Say why the amount changes: it is kept with the payment", field="reason"
        )
    if line.status in (PaymentStatus.PAID, PaymentStatus.DECLINED):
        raise PaymentError(
            f"{line.reference} is already {in_sentence(line.status)}: its amount cannot change"
        )
    if pence == line.amount_pence:
        return False
    session.add(
        PaymentChange(
            line_id=line.id,
            at=now,
            actor=actor,
            from_pence=line.amount_pence,
            to_pence=pence,
            reason=reason[:500],
        )
    )
    audit.record(
        session,
        actor=actor,
        action="payment.amount_changed",
        entity="payment_line",
        entity_id=line.id,
        at=now,
        from_pence=line.amount_pence,
        to_pence=pence,
    )
    line.amount_pence = pence
    if line.status is PaymentStatus.APPROVED:
        # A changed amount is a new decision: someone approves it again.
        line.status, line.approved_at, line.approved_by = PaymentStatus.OWED, None, None
    return True


_VERBS = {
    PaymentStatus.APPROVED: "approved",
    PaymentStatus.PAID: "paid",
    PaymentStatus.DECLINED: "declined",
}


def _move(line: PaymentLine, new: PaymentStatus) -> None:
    """Refuse a move the lifecycle does not allow, saying what to do instead."""
    if line.status is PaymentStatus.PAID:
        when = f" on {line.paid_at:%-d %B %Y}" if line.paid_at else ""
        raise PaymentError(
            f"{line.reference} was already paid{when}: it cannot be {_VERBS[new]} again"
            if new is PaymentStatus.PAID
            else f"{line.reference} was already paid{when}: it cannot be {_VERBS[new]} now"
        )
    if line.status is PaymentStatus.DECLINED:
        raise PaymentError(f"{line.reference} was declined, so it cannot be {_VERBS[new]}")
    if new is PaymentStatus.PAID and line.status is PaymentStatus.OWED:
        raise PaymentError(f"{line.reference} must be approved before it is paid")
    if not can_move(line.status, new):
        raise PaymentError(f"{line.reference} is already {_VERBS[new]}")


async def approve(session: AsyncSession, line: PaymentLine, *, now: datetime, actor: str) -> None:
    line = await find_line(session, line.id, lock=True)
    _move(line, PaymentStatus.APPROVED)
    if line.amount_pence <= 0:
        raise PaymentError(
            f"{line.reference} is for {pounds(0)}: record what is owed first, or decline it"
        )
    line.status, line.approved_at, line.approved_by = PaymentStatus.APPROVED, now, actor
    _audit(session, line, "payment.approved", now, actor)


async def mark_paid(session: AsyncSession, line: PaymentLine, *, now: datetime, actor: str) -> None:
    line = await find_line(session, line.id, lock=True)
    _move(line, PaymentStatus.PAID)
    line.status, line.paid_at, line.paid_by = PaymentStatus.PAID, now, actor
    _audit(session, line, "payment.paid", now, actor)
    await _keep_costs_promise(session, line, "Paid", now)


async def decline(
    session: AsyncSession, line: PaymentLine, reason: str, *, now: datetime, actor: str
) -> None:
    """Decline with the reason the person is given, and a task to explain it in person
    (a line that was for nothing needs no explaining)."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError("Give the reason the person will be told", field="reason")
    line = await find_line(session, line.id, lock=True)
    _move(line, PaymentStatus.DECLINED)
    line.status, line.declined_at, line.decline_reason = PaymentStatus.DECLINED, now, reason[:500]
    _audit(session, line, "payment.declined", now, actor)
    await _keep_costs_promise(session, line, "Settled: declined, with the reason given", now)
    if line.amount_pence > 0:
        expert, engagement = line.invitation.expert, line.invitation.engagement
        await open_task(
            session,
            kind=TaskKind.EXPLAIN_DECLINE,
            title="Explain a declined payment in person",
            details=(
                f"{label_of(line.purpose)} for {expert.preferred_name} "
                f"({pounds(line.amount_pence)}, {engagement.title}) was declined. "
                f"The reason to give them: {reason}. Tell them in person or by phone, kindly, "
                "before they hear it any other way."
            ),
            assignee=expert.link_worker,
            expert=expert,
            engagement=engagement,
            now=now,
            dedupe_key=f"pay{line.id}:explain",
        )


def _audit(
    session: AsyncSession, line: PaymentLine, action: str, now: datetime, actor: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="payment_line",
        entity_id=line.id,
        at=now,
        pence=line.amount_pence,
    )


async def _keep_costs_promise(
    session: AsyncSession, line: PaymentLine, how: str, now: datetime
) -> None:
    if line.purpose is not PaymentPurpose.CANCELLATION_COSTS:
        return
    invitation = line.invitation
    for promise in await session.scalars(
        select(Promise).where(
            Promise.kind == "costs",
            Promise.expert_id == invitation.expert_id,
            Promise.engagement_id == invitation.engagement_id,
            Promise.kept_at.is_(None),
        )
    ):
        # As promises.keep does; that module asks this one whether costs are settled.
        promise.kept_at, promise.kept_how = now, how


async def costs_settled(session: AsyncSession, expert_id: int, engagement_id: int) -> bool:
    """True when this person's costs of a cancelled engagement are paid or declined."""
    status = await session.scalar(
        select(PaymentLine.status)
        .join(Invitation, Invitation.id == PaymentLine.invitation_id)
        .where(
            Invitation.expert_id == expert_id,
            Invitation.engagement_id == engagement_id,
            PaymentLine.purpose == PaymentPurpose.CANCELLATION_COSTS,
        )
    )
    return status in (PaymentStatus.PAID, PaymentStatus.DECLINED)


async def open_cancellation_costs(
    session: AsyncSession, invitations: Iterable[Invitation], now: datetime
) -> int:
    """A cancelled engagement's costs: one line per person told, for a person to fill in
    with what they had spent or booked (travel, childcare, a support worker)."""
    opened = 0
    for invitation in invitations:
        exists = await session.scalar(
            select(PaymentLine.id).where(
                PaymentLine.invitation_id == invitation.id,
                PaymentLine.purpose == PaymentPurpose.CANCELLATION_COSTS,
            )
        )
        if exists is None:
            await open_line(
                session,
                invitation,
                PaymentPurpose.CANCELLATION_COSTS,
                0,
                now=now,
                actor="linkline",
                what_for="Anything spent or booked before the cancellation",
            )
            opened += 1
    return opened


async def lines_for(
    session: AsyncSession, *, expert_id: int | None = None, engagement_id: int | None = None
) -> list[PaymentLine]:
    query = select(PaymentLine).join(Invitation).options(*_LOADED)
    if expert_id is not None:
        query = query.where(Invitation.expert_id == expert_id)
    if engagement_id is not None:
        query = query.where(Invitation.engagement_id == engagement_id)
    return list(await session.scalars(query.order_by(PaymentLine.created_at, PaymentLine.id)))


async def waiting_lines(session: AsyncSession) -> list[PaymentLine]:
    """Everything owed or approved and not yet paid, oldest first."""
    return list(
        await session.scalars(
            select(PaymentLine)
            .where(PaymentLine.status.in_([PaymentStatus.OWED, PaymentStatus.APPROVED]))
            .order_by(PaymentLine.created_at, PaymentLine.id)
            .options(*_LOADED)
        )
    )


@dataclass(frozen=True)
class Totals:
    owed: int = 0
    approved: int = 0
    paid: int = 0
    declined: int = 0

    @property
    def outstanding(self) -> int:
        return self.owed + self.approved


def totals(lines: Iterable[PaymentLine]) -> Totals:
    sums = dict.fromkeys(PaymentStatus, 0)
    for line in lines:
        sums[line.status] += line.amount_pence
    return Totals(*(sums[s] for s in PaymentStatus))


def by_person(lines: Iterable[PaymentLine]) -> dict[int, str]:
    """Each invitation's lines in a few words ("Travel and other costs £12.40, owed"), for
    a page that shows where someone's money stands without being the place it is kept."""
    words: dict[int, list[str]] = {}
    for line in lines:
        words.setdefault(line.invitation_id, []).append(
            f"{label_of(line.purpose)} {pounds(line.amount_pence)}, {in_sentence(line.status)}"
        )
    return {invitation_id: "; ".join(each) for invitation_id, each in words.items()}


def describe_line(line: PaymentLine, time_zone: str) -> str:
    """One line for staff: what, for whom, how much, where it stands."""
    engagement: Engagement = line.invitation.engagement
    expert: Expert = line.invitation.expert
    return (
        f"{line.reference}: {label_of(line.purpose)} for {expert.preferred_name}, "
        f"{engagement.title} ({spoken_datetime(engagement.starts_at, time_zone)}): "
        f"{pounds(line.amount_pence)}, {in_sentence(line.status)}"
    )

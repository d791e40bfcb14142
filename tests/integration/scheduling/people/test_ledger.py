"""The payments ledger on both databases: one line per purpose, amounts changed only with a
reason, owed -> approved -> paid or declined, and every bad step refused with nothing
changed (the database's own constraints hold even when the code is bypassed)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.rules.payments import PaymentError
from store.enums import PaymentPurpose, PaymentStatus, TaskKind
from store.models import AuditEvent, Invitation, PaymentChange, PaymentLine, Task
from tests.builders import add_engagement, add_expert

pytestmark = pytest.mark.db_contract


async def _invitation(app: App) -> int:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, ref="EX-1")
        engagement = await add_engagement(app, session, experts=[ana])
        return engagement.invitations[0].id


async def _line(app: App, purpose: PaymentPurpose = PaymentPurpose.TRAVEL, pence: int = 640) -> int:
    invitation_id = await _invitation(app)
    async with app.sessions.begin() as session:
        invitation = await session.get_one(Invitation, invitation_id)
        line = await ledger.open_line(
            session, invitation, purpose, pence, now=app.clock.now(), actor="t"
        )
        return line.id


async def _state(app: App, line_id: int) -> tuple[PaymentStatus, int, int]:
    async with app.sessions() as session:
        line = await session.get_one(PaymentLine, line_id)
        changes = await session.scalar(select(func.count()).select_from(PaymentChange))
        return line.status, line.amount_pence, int(changes or 0)


async def _step(app: App, line_id: int, action: str, **kw: Any) -> None:
    async with app.sessions.begin() as session:
        line = await ledger.find_line(session, line_id)
        now = app.clock.now()
        if action == "approve":
            await ledger.approve(session, line, now=now, actor="t")
        elif action == "pay":
            await ledger.mark_paid(session, line, now=now, actor="t")
        elif action == "decline":
            await ledger.decline(session, line, kw.get("reason", "no receipt"), now=now, actor="t")
        elif action == "change":
            await ledger.change_amount(session, line, kw["pence"], kw["reason"], now=now, actor="t")


async def test_a_line_goes_owed_approved_paid_and_every_step_is_recorded(app: App) -> None:
    line_id = await _line(app)
    await _step(app, line_id, "approve")
    await _step(app, line_id, "pay")
    async with app.sessions() as session:
        line = await session.get_one(PaymentLine, line_id)
        assert (line.status, line.paid_at, line.paid_by) == (
            PaymentStatus.PAID,
            app.clock.now(),
            "t",
        )
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["payment.opened", "payment.approved", "payment.paid"]


@pytest.mark.parametrize(
    ("before", "action", "words"),
    [
        ([], "pay", "must be approved before it is paid"),
        (["approve", "pay"], "pay", "was already paid on"),
        (["decline"], "pay", "was declined, so it cannot be paid"),
        (["decline"], "approve", "was declined"),
        (["approve", "pay"], "decline", "was already paid"),
        (["approve"], "approve", "is already approved"),
    ],
)
async def test_a_step_the_lifecycle_forbids_is_refused_and_changes_nothing(
    app: App, before: list[str], action: str, words: str
) -> None:
    line_id = await _line(app)
    for step in before:
        await _step(app, line_id, step)
    was = await _state(app, line_id)
    with pytest.raises(PaymentError, match=words):
        await _step(app, line_id, action)
    assert await _state(app, line_id) == was


async def test_one_line_per_purpose_nothing_is_paid_twice(app: App) -> None:
    line_id = await _line(app)
    async with app.sessions.begin() as session:
        line = await session.get_one(PaymentLine, line_id)
        invitation = await session.get_one(Invitation, line.invitation_id)
        with pytest.raises(PaymentError, match="already in the ledger"):
            await ledger.open_line(
                session, invitation, PaymentPurpose.TRAVEL, 100, now=app.clock.now(), actor="t"
            )
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentLine)) == 1


async def test_the_database_refuses_a_second_line_a_negative_or_absurd_amount(app: App) -> None:
    """Even a writer that skips the service cannot break the ledger's rules."""
    line_id = await _line(app)
    async with app.sessions() as session:
        line = await session.get_one(PaymentLine, line_id)
        invitation_id = line.invitation_id
    insert = text(
        "INSERT INTO payment_line (invitation_id, purpose, status, amount_pence, receipt_seen,"
        " created_at, created_by) VALUES (:i, :p, 'owed', :a, false, :at, 't')"
    )
    now = app.clock.now().replace(tzinfo=None)
    for purpose, pence in (("travel", 100), ("meals", -1), ("meals", 1_000_001)):
        async with app.sessions() as session:
            with pytest.raises(IntegrityError):
                await session.execute(
                    insert, {"i": invitation_id, "p": purpose, "a": pence, "at": now}
                )
                await session.commit()
            await session.rollback()
    async with app.sessions() as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                text("UPDATE payment_line SET status = 'paid' WHERE id = :i"), {"i": line_id}
            )
            await session.commit()
    assert await _state(app, line_id) == (PaymentStatus.OWED, 640, 0)


async def test_an_amount_changes_only_with_a_reason_and_the_reason_is_kept(app: App) -> None:
    line_id = await _line(app)
    await _step(app, line_id, "approve")
    with pytest.raises(PaymentError, match="Say why"):
        await _step(app, line_id, "change", pence=900, reason="  ")
    assert await _state(app, line_id) == (PaymentStatus.APPROVED, 640, 0)
    await _step(app, line_id, "change", pence=900, reason="a second bus fare, receipt seen")
    # A new amount is a new decision: it waits for approval again.
    assert await _state(app, line_id) == (PaymentStatus.OWED, 900, 1)
    async with app.sessions() as session:
        change = await session.scalar(select(PaymentChange))
        assert change is not None
        assert (change.from_pence, change.to_pence, change.reason) == (
            640,
            900,
            "a second bus fare, receipt seen",
        )
    await _step(app, line_id, "approve")
    await _step(app, line_id, "pay")
    with pytest.raises(PaymentError, match="already paid"):
        await _step(app, line_id, "change", pence=100, reason="oops")
    assert await _state(app, line_id) == (PaymentStatus.PAID, 900, 1)


@pytest.mark.parametrize("pence", [-1, 200_001])
async def test_a_negative_or_absurd_amount_is_refused(app: App, pence: int) -> None:
    line_id = await _line(app)
    with pytest.raises(PaymentError):
        await _step(app, line_id, "change", pence=pence, reason="typo")
    assert await _state(app, line_id) == (PaymentStatus.OWED, 640, 0)


@pytest.mark.parametrize("reference", ["LL999999", "12x", "", "LL000000", "-3"])
async def test_an_unknown_or_malformed_reference_is_refused(app: App, reference: str) -> None:
    await _line(app)
    async with app.sessions() as session:
        with pytest.raises(PaymentError):
            await ledger.find_line(session, reference)


async def test_a_decline_needs_a_reason_and_opens_a_task_to_explain_in_person(
    app: App, clock: SimulatedClock
) -> None:
    line_id = await _line(app)
    with pytest.raises(PaymentError, match="reason"):
        await _step(app, line_id, "decline", reason="")
    assert await _state(app, line_id) == (PaymentStatus.OWED, 640, 0)
    await _step(app, line_id, "decline", reason="Taxis are paid only when agreed first")
    async with app.sessions() as session:
        line = await session.get_one(PaymentLine, line_id)
        assert line.decline_reason == "Taxis are paid only when agreed first"
        tasks = list(await session.scalars(select(Task)))
    (task,) = [t for t in tasks if t.kind is TaskKind.EXPLAIN_DECLINE]
    assert "Taxis are paid only when agreed first" in (task.details or "")
    assert "None" not in (task.details or "") and "£6.40" in (task.details or "")


async def test_a_zero_line_cannot_be_approved(app: App) -> None:
    line_id = await _line(app, PaymentPurpose.CANCELLATION_COSTS, 0)
    with pytest.raises(PaymentError, match="record what is owed first"):
        await _step(app, line_id, "approve")
    assert await _state(app, line_id) == (PaymentStatus.OWED, 0, 0)

"""Telling someone they were paid, through the gate: the amount only where details are
safe, one message for lines paid together, and nobody told twice."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.planning.payment_notices import pay
from store.enums import MessageStatus, PaymentPurpose, Purpose
from store.models import Invitation
from tests.builders import add_engagement, add_expert, outbox


async def _paid(app: App, purposes: dict[PaymentPurpose, int], **expert: Any) -> None:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, **expert)
        engagement = await add_engagement(app, session, experts=[ana], title="Survivors panel")
        invitation = await session.get_one(Invitation, engagement.invitations[0].id)
        now = app.clock.now()
        for purpose, pence in purposes.items():
            line = await ledger.open_line(session, invitation, purpose, pence, now=now, actor="t")
            await ledger.approve(session, line, now=now, actor="t")
        for line in await ledger.lines_for(session):
            await pay(session, line, now=now, actor="t")


async def _sent(app: App, clock: SimulatedClock) -> list[str]:
    for _ in range(3):  # held until their safe hours, if need be
        await app.dispatcher().run_until_idle()
        notices = await outbox(app, purpose=Purpose.PAYMENT_SENT)
        if all(m.status is not MessageStatus.PENDING for m in notices):
            break
        clock.set(max(clock.now(), *(m.next_attempt_at for m in notices)))
    return [m.body or "" for m in await outbox(app, purpose=Purpose.PAYMENT_SENT)]


async def test_a_discreet_text_says_it_was_sent_without_the_amount_or_what_for(
    app: App, clock: SimulatedClock
) -> None:
    await _paid(app, {PaymentPurpose.TIME: 2500, PaymentPurpose.TRAVEL: 640})
    (body,) = await _sent(app, clock)  # two lines paid together: one message
    assert "We have sent what we owed you for" in body
    assert "£" not in body and "panel" not in body.lower() and "None" not in body


async def test_where_details_are_safe_the_message_gives_the_amount(
    app: App, clock: SimulatedClock
) -> None:
    await _paid(app, {PaymentPurpose.TIME: 2500, PaymentPurpose.TRAVEL: 640}, discreet=False)
    (body,) = await _sent(app, clock)
    assert "your payment of £31.40 for Survivors panel" in body

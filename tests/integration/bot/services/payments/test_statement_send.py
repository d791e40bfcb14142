"""A yearly statement reaches the person it is about through the gate: by email (with
the PDF) or by letter, and only where they agreed details are safe. Where there is no
such way, nothing is sent and their link worker gets a task saying so."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bootstrap import App
from bot.services.payments.statement_send import StatementError, send_statement
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.planning.payment_notices import pay
from store.enums import Channel, MessageStatus, PaymentPurpose, Purpose, TaskKind
from store.models import Expert, Invitation
from tests.builders import add_engagement, add_expert, all_tasks, outbox

ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"
EMAIL_SAFE: dict[str, Any] = {
    "preferred_channel": "email",
    "fallback_channels": "sms",
    "email": "ana@example.net",
    "consent": {"email": {"allowed": True, "details_safe": True}, "sms": {"allowed": True}},
}
LETTER_SAFE: dict[str, Any] = {
    "preferred_channel": "sms",
    "fallback_channels": "letter",
    "postal_address": ADDRESS,
    "consent": {"sms": {"allowed": True}, "letter": {"allowed": True, "details_safe": True}},
}


async def _paid(app: App, **person: Any) -> int:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, **person)
        engagement = await add_engagement(app, session, experts=[ana], title="Survivors panel")
        invitation = await session.get_one(Invitation, engagement.invitations[0].id)
        now = app.clock.now()
        for purpose, pence in ((PaymentPurpose.TIME, 2500), (PaymentPurpose.TRAVEL, 640)):
            line = await ledger.open_line(session, invitation, purpose, pence, now=now, actor="t")
            await ledger.approve(session, line, now=now, actor="t")
            await pay(session, line, now=now, actor="t")
        return ana.id


async def _send(app: App, expert_id: int, year: int) -> str:
    async with app.sessions.begin() as session:
        expert = await session.get_one(Expert, expert_id)
        sent = await send_statement(session, expert, year, now=app.clock.now(), actor="t")
        return sent.sentence


async def _statement_after_sending(app: App, clock: SimulatedClock) -> list[Any]:
    for _ in range(3):  # held until their safe hours, if need be
        await app.dispatcher().run_until_idle()
        waiting = await outbox(app, purpose=Purpose.STATEMENT)
        if all(m.status is not MessageStatus.PENDING for m in waiting):
            break
        clock.set(max(clock.now(), *(m.next_attempt_at for m in waiting)))
    return await outbox(app, purpose=Purpose.STATEMENT)


@pytest.mark.parametrize(
    ("person", "channel"), [(EMAIL_SAFE, Channel.EMAIL), (LETTER_SAFE, Channel.LETTER)]
)
async def test_it_goes_where_details_are_safe_with_every_amount(
    app: App, clock: SimulatedClock, person: dict[str, Any], channel: Channel
) -> None:
    ana = await _paid(app, discreet=True, **person)
    year = clock.now().year
    assert "£31.40" in await _send(app, ana, year)
    (message,) = await _statement_after_sending(app, clock)
    assert message.channel is channel and message.status is not MessageStatus.FAILED
    body = message.body or ""
    assert "£25.00" in body and "£6.40" in body and f"Total for {year}: £31.40." in body
    assert "None" not in body and "answer" in body.lower()
    with pytest.raises(StatementError, match="already sent to them today"):
        await _send(app, ana, year)


async def test_with_no_safe_channel_nothing_is_sent_and_the_link_worker_is_told(
    app: App, clock: SimulatedClock
) -> None:
    ana = await _paid(app, discreet=True)  # text messages only, not safe for details
    assert "task" in await _send(app, ana, clock.now().year)
    assert await outbox(app, purpose=Purpose.STATEMENT) == []
    (task,) = [t for t in await all_tasks(app) if t.kind is TaskKind.DELIVERY_PROBLEM]
    assert "their statement" in task.title and "safe for details" in (task.details or "")
    assert "None" not in f"{task.title} {task.details}"


async def test_a_year_nobody_was_paid_in_is_refused(app: App) -> None:
    ana = await _paid(app, discreet=True, **EMAIL_SAFE)
    with pytest.raises(Exception, match="not a year"):
        await _send(app, ana, 1066)
    assert await outbox(app, purpose=Purpose.STATEMENT) == []

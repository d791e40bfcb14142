"""A text saying PAID? is answered with what we owe, through the gate: on a number not safe
for details without the amount or what it was for, on a safe one with the amount."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import App
from scheduling.people import ledger
from scheduling.planning.payment_notices import pay
from store.enums import PaymentPurpose
from store.models import Invitation
from tests.builders import add_engagement, add_expert
from tests.live import Live

ANA = "+447123456789"


async def _owed(app: App, **expert: Any) -> None:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, **expert)
        engagement = await add_engagement(app, session, experts=[ana], title="Survivors panel")
        invitation = await session.get_one(Invitation, engagement.invitations[0].id)
        now = app.clock.now()
        time = await ledger.open_line(session, invitation, PaymentPurpose.TIME, 2500, now=now,
                                      actor="t")  # fmt: skip
        travel = await ledger.open_line(session, invitation, PaymentPurpose.TRAVEL, 640, now=now,
                                        actor="t")  # fmt: skip
        await ledger.approve(session, travel, now=now, actor="t")
        await pay(session, travel, now=now, actor="t")
        assert time.amount_pence == 2500


async def test_paid_on_a_discreet_number_says_something_is_on_its_way_and_nothing_more(
    live: Live,
) -> None:
    await _owed(live.app)
    answer = (await live.text(ANA, "PAID?")).text
    assert "What we owe you is on its way." in answer
    assert "£" not in answer and "panel" not in answer.lower() and "None" not in answer
    (reply,) = await live.replies()
    assert reply.intent == "paid" and not reply.needs_person


async def test_paid_where_details_are_safe_gives_the_amount_and_the_last_payment(
    live: Live,
) -> None:
    await _owed(live.app, consent={"sms": {"allowed": True, "details_safe": True}})
    answer = (await live.text(ANA, "have I been paid")).text
    assert "We owe you £25.00 and it is on its way." in answer
    assert "The last we sent was £6.40 on" in answer
    assert "travel" not in answer.lower() and "panel" not in answer.lower()

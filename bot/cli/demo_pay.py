"""The demo's paid journey: the workshop offers £25 for the session and pays back travel
and childcare; Ana comes, claims her bus fares, and is paid, and her phone shows only that
something was sent (her texts are not safe for details)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements.attendance import record_attendance
from bot.services.payments import claims
from scheduling.people import ledger
from scheduling.people.offers import set_kind_default
from scheduling.planning.payment_notices import pay
from scheduling.rules.payments import Offer
from store.enums import OfferKind, PaymentPurpose

ACTOR = "demo"
OFFER = Offer(OfferKind.PER_SESSION, 2500, (PaymentPurpose.TRAVEL, PaymentPurpose.CHILDCARE), 3000)


async def set_offer(session: AsyncSession, now: datetime) -> None:
    """Before anything is published: meetings pay £25 and travel and childcare."""
    await set_kind_default(session, "meeting", OFFER, now=now, actor=ACTOR)


async def ana_came_and_claims(app: App, engagement_id: int, now: datetime) -> None:
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, engagement_id)
        invitation = await claims.invitation_for(session, engagement_id, "EX-01")
        await record_attendance(session, engagement, invitation.expert, True, now=now, actor=ACTOR)
        await claims.record_claim(
            session, invitation, PaymentPurpose.TRAVEL, "6.40", now=now, actor=ACTOR,
            what_for="Two bus fares", receipt_seen=True,
        )  # fmt: skip


async def ana_is_paid(app: App, engagement_id: int, now: datetime) -> str:
    """Approve and pay everything owed to Ana for the workshop; what it came to."""
    async with app.sessions.begin() as session:
        invitation = await claims.invitation_for(session, engagement_id, "EX-01")
        lines = [
            line
            for line in await ledger.lines_for(session, engagement_id=engagement_id)
            if line.invitation_id == invitation.id
        ]
        for line in lines:
            await ledger.approve(session, line, now=now, actor=ACTOR)
            await pay(session, line, now=now, actor=ACTOR)
        return ", ".join(ledger.describe_line(line, "Europe/London") for line in lines)

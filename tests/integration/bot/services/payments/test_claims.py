"""What staff record about money: an offer (or its kind's default), the time owed once
someone came, expenses claimed within the offer's limit, and how the person chose to be
paid (kept encrypted, asked and never guessed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.bootstrap import App
from bot.services.engagements.attendance import record_attendance
from bot.services.payments import claims
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.people.offers import offer_for, set_kind_default
from scheduling.rules.payments import Offer, PaymentChoice, PaymentError
from store.enums import OfferKind, PaymentMethod, PaymentPurpose, PaymentStatus, TaskKind
from store.models import Expert, PaymentLine, Task
from tests.builders import add_engagement, add_expert


async def _set_up(app: App, kind: str = "meeting") -> tuple[int, int]:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, ref="EX-1")
        engagement = await add_engagement(
            app, session, experts=[ana], kind=kind, length=timedelta(hours=2)
        )
        return engagement.id, ana.id


async def _attend(app: App, engagement_id: int, expert_id: int, came: bool) -> None:
    async with app.sessions.begin() as session:
        engagement = await claims.engagement_for(session, engagement_id)
        expert = await session.get_one(Expert, expert_id)
        await record_attendance(
            session, engagement, expert, came, now=app.clock.now(), actor="test"
        )


async def _lines(app: App) -> list[tuple[PaymentPurpose, PaymentStatus, int]]:
    async with app.sessions() as session:
        return [(ln.purpose, ln.status, ln.amount_pence) for ln in await ledger.lines_for(session)]


async def test_coming_owes_the_time_the_kind_offers_and_asks_the_lead_for_the_rest(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        await set_kind_default(
            session,
            "panel",
            Offer(OfferKind.PER_HOUR, 2000, (PaymentPurpose.TRAVEL,), 1500),
            now=clock.now(),
            actor="test",
        )
    engagement_id, expert_id = await _set_up(app, kind="panel")
    clock.advance(timedelta(days=11))
    await _attend(app, engagement_id, expert_id, came=True)
    assert await _lines(app) == [(PaymentPurpose.TIME, PaymentStatus.OWED, 4000)]
    async with app.sessions() as session:
        kinds = [t.kind for t in await session.scalars(select(Task))]
    assert kinds.count(TaskKind.RECORD_PAYMENTS) == 1
    # Marked as missed after all: the time is no longer owed; came again: owed again.
    await _attend(app, engagement_id, expert_id, came=False)
    assert await _lines(app) == [(PaymentPurpose.TIME, PaymentStatus.OWED, 0)]
    await _attend(app, engagement_id, expert_id, came=True)
    assert await _lines(app) == [(PaymentPurpose.TIME, PaymentStatus.OWED, 4000)]


async def test_an_engagement_with_no_offer_owes_no_time(app: App, clock: SimulatedClock) -> None:
    engagement_id, expert_id = await _set_up(app)
    clock.advance(timedelta(days=11))
    await _attend(app, engagement_id, expert_id, came=True)
    assert await _lines(app) == []


async def test_an_expense_over_the_offers_limit_is_refused_and_a_new_amount_needs_a_reason(
    app: App, clock: SimulatedClock
) -> None:
    engagement_id, _ = await _set_up(app)
    async with app.sessions.begin() as session:
        engagement = await claims.engagement_for(session, engagement_id)
        offer = claims.parse_offer("per-session", "25", "travel, childcare", "30")
        await claims.change_offer(session, engagement, offer, now=clock.now(), actor="t")
    async with app.sessions.begin() as session:
        invitation = await claims.invitation_for(session, engagement_id, "EX-1")
        engagement = await claims.engagement_for(session, engagement_id)
        assert (await offer_for(session, engagement)).limit_pence == 3000
        with pytest.raises(PaymentError, match="more than this engagement pays"):
            await claims.record_claim(
                session, invitation, PaymentPurpose.TRAVEL, "45.00", now=clock.now(), actor="t"
            )
    assert await _lines(app) == []
    async with app.sessions.begin() as session:
        invitation = await claims.invitation_for(session, engagement_id, "EX-1")
        await claims.record_claim(
            session, invitation, PaymentPurpose.TRAVEL, "6.40", now=clock.now(), actor="t"
        )
    async with app.sessions.begin() as session:
        invitation = await claims.invitation_for(session, engagement_id, "EX-1")
        with pytest.raises(PaymentError, match="Say why"):
            await claims.record_claim(
                session, invitation, PaymentPurpose.TRAVEL, "8.00", now=clock.now(), actor="t"
            )
    assert await _lines(app) == [(PaymentPurpose.TRAVEL, PaymentStatus.OWED, 640)]


@pytest.mark.parametrize(
    ("engagement", "expert", "words"),
    [(999, "EX-1", "no engagement 999"), (None, "EX-404", "no expert"), (None, "", "no expert")],
)
async def test_an_unknown_engagement_or_person_is_refused(
    app: App, engagement: int | None, expert: str, words: str
) -> None:
    engagement_id, _ = await _set_up(app)
    async with app.sessions() as session:
        with pytest.raises(PaymentError, match=words):
            await claims.invitation_for(session, engagement or engagement_id, expert)


@pytest.mark.parametrize(
    ("kind", "amount", "covers", "limit", "words"),
    [
        ("bribe", "5", "", "", "not a offer"),
        ("per-session", "", "", "", "Say how much"),
        ("voucher", "-3", "", "", "less than nothing"),
        ("none", "", "petrol", "", "not a purpose"),
        ("none", "", "time", "", "Only travel"),
        ("none", "", "travel", "lots", "not an amount"),
    ],
)
def test_a_bad_offer_is_refused_clearly(
    kind: str, amount: str, covers: str, limit: str, words: str
) -> None:
    with pytest.raises(PaymentError, match=words):
        claims.parse_offer(kind, amount, covers, limit)


async def test_the_payment_choice_is_kept_encrypted_and_structured(
    app: App, clock: SimulatedClock
) -> None:
    _, expert_id = await _set_up(app)
    async with app.sessions.begin() as session:
        expert = await session.get_one(Expert, expert_id)
        choice = PaymentChoice(PaymentMethod.TALK_FIRST, "shop", "on Universal Credit")
        await claims.set_choice(session, expert, choice, now=clock.now(), actor="t")
    async with app.sessions() as session:
        expert = await session.get_one(Expert, expert_id)
        assert claims.choice_of(expert) == PaymentChoice(
            PaymentMethod.TALK_FIRST, "", "on Universal Credit"
        )
        raw = await session.scalar(
            text("SELECT payment_preference FROM expert WHERE id = :i"), {"i": expert_id}
        )
    assert "Universal" not in str(raw) and "talk_first" not in str(raw)


async def test_a_time_line_is_one_per_person(app: App, clock: SimulatedClock) -> None:
    engagement_id, _ = await _set_up(app)
    async with app.sessions.begin() as session:
        invitation = await claims.invitation_for(session, engagement_id, "EX-1")
        await claims.record_claim(
            session, invitation, PaymentPurpose.TIME, "25", now=clock.now(), actor="t"
        )
    async with app.sessions() as session:
        assert len(list(await session.scalars(select(PaymentLine)))) == 1


async def test_publishing_fixes_the_kinds_offer_into_the_advance_information(
    app: App, clock: SimulatedClock
) -> None:
    from bot.services.engagements import lifecycle
    from scheduling.text.context import engagement_offer
    from scheduling.text.rendering import Renderer
    from store.enums import Channel, Purpose

    offer = Offer(OfferKind.VOUCHER, 2000, (PaymentPurpose.TRAVEL,), None)
    async with app.sessions.begin() as session:
        await set_kind_default(session, "panel", offer, now=clock.now(), actor="t")
        engagement = await add_engagement(app, session, kind="panel", publish=False)
        assert engagement_offer(engagement) == Offer()  # a draft follows the default
        await lifecycle.publish(session, engagement, app.offsets, now=clock.now(), actor="t")
        assert engagement_offer(engagement) == offer
    async with app.sessions.begin() as session:  # a later default changes nothing told
        await set_kind_default(session, "panel", Offer(), now=clock.now(), actor="t")
        engagement = await claims.engagement_for(session, engagement.id)
        assert engagement_offer(engagement) == offer
    from tests.unit.scheduling.text.test_templates import CONTEXT

    said = " ".join(offer.sentences())
    for channel in (Channel.EMAIL, Channel.LETTER):
        body = (
            Renderer()
            .render(Purpose.PRE_BRIEF, channel, {**CONTEXT, "details": True, "offer": said})
            .body
        )
        assert "You will get a £20.00 voucher to thank you for your time." in body
        quiet = (
            Renderer()
            .render(Purpose.PRE_BRIEF, channel, {**CONTEXT, "details": False, "offer": said})
            .body
        )
        assert "£" not in quiet

"""Plain builder functions for test data, with sensible defaults a test can override."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.experts.details import ExpertInput
from bot.services.experts.profile import create_expert
from bot.services.staff.accounts import create_staff, find_staff
from store.enums import InvitationAnswer, Role
from store.models import Engagement, Expert, Message, Staff, Task

FULL_DETAILS: dict[str, str] = {
    "purpose": "Help shape how the new support service answers first calls.",
    "objectives": "Hear what made first contact easier or harder.",
    "expected_outcomes": "A short list of changes the service will try.",
    "venue_name": "Leith Community Centre",
    "venue_address": "12 Example Street, Edinburgh EH6 1AA",
    "venue_accessibility": "Step-free entrance, accessible toilet, a quiet room.",
    "meeting_point": "Sam will meet you at the front door.",
    "practitioners": "Two people from the service design team.",
    "transport_and_expenses": "Bus or taxi fares and childcare are paid.",
    "how_to_claim": "Give Sam your receipts, or tell Sam what you spent.",
    "paperwork": "Notes are sent a week before.",
}


async def add_staff(
    session: AsyncSession,
    name: str = "Sam Taylor",
    email: str = "sam@example.org",
    role: Role = Role.LINK_WORKER,
    now: datetime | None = None,
) -> Staff:
    existing = await find_staff(session, email)
    if existing is not None:
        return existing
    return await create_staff(
        session,
        name=name,
        email=email,
        role=role,
        now=now or datetime.now().astimezone(),
        actor="test",
    )


def expert_input(**overrides: Any) -> ExpertInput:
    data: dict[str, Any] = {
        "preferred_name": "Ana",
        "link_worker": "sam@example.org",
        "preferred_channel": "sms",
        "phone": "07123 456789",
        "consent": {"sms": {"allowed": True}},
        "consent_confirmed_on": date(2026, 1, 5),
        "consent_confirmed_by": "sam@example.org",
    }
    data.update(overrides)
    return ExpertInput.model_validate(data)


async def add_expert(app: App, session: AsyncSession, **overrides: Any) -> Expert:
    await add_staff(session, now=app.clock.now())
    # Someone already known (no welcome planned): tests of the welcome add it themselves.
    return await create_expert(
        session,
        app.cipher,
        expert_input(**overrides),
        actor="test",
        now=app.clock.now(),
        welcome=False,
    )


async def add_engagement(
    app: App,
    session: AsyncSession,
    *,
    starts_in: timedelta = timedelta(days=10, hours=6),
    length: timedelta = timedelta(hours=2),
    title: str = "First contact workshop",
    publish: bool = True,
    experts: list[Expert] | None = None,
    kind: str = "meeting",
    starts_at: datetime | None = None,
    **details: str | None,
) -> Engagement:
    lead = await add_staff(session, now=app.clock.now())
    starts = starts_at or app.clock.now() + starts_in
    engagement = await engagement_service.create_engagement(
        session,
        title=title,
        starts_at=starts,
        ends_at=starts + length,
        lead=lead,
        details={**FULL_DETAILS, **details},
        plan_overrides=None,
        base_offsets=app.offsets,
        time_zone="Europe/London",
        now=app.clock.now(),
        actor="test",
        kind=kind,
    )
    if publish:
        await engagement_service.publish(
            session, engagement, app.offsets, now=app.clock.now(), actor="test"
        )
    if experts:
        await engagement_service.invite(
            session, engagement, experts, app.offsets, now=app.clock.now(), actor="test"
        )
    return await engagement_service.get_engagement(session, engagement.id)


async def outbox(app: App, **where: object) -> list[Message]:
    """The outbox as a person reads it: by due time, filtered by column values."""
    async with app.sessions() as session:
        query = select(Message).order_by(Message.due_at, Message.id)
        for key, value in where.items():
            query = query.where(getattr(Message, key) == value)
        return list(await session.scalars(query))


async def all_tasks(app: App) -> list[Task]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Task).order_by(Task.id)))


async def say_yes(app: App, session: AsyncSession, engagement: Engagement, expert: Expert) -> None:
    await engagement_service.record_answer(
        session,
        engagement,
        expert.id,
        InvitationAnswer.YES,
        app.offsets,
        now=app.clock.now(),
        actor="test",
    )

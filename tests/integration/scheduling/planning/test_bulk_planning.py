"""Invitations and their messages are written in bulk: the plan must be the same as one at a
time, and a name given twice is still one invitation."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as service
from store.enums import Purpose
from store.models import Invitation
from tests.builders import add_engagement, add_expert, outbox


async def test_inviting_many_at_once_plans_each_person_once(app: App) -> None:
    async with app.sessions.begin() as session:
        experts = [
            await add_expert(app, session, phone=f"07123 00002{n}", preferred_name=f"Person {n}")
            for n in range(5)
        ]
        engagement = await add_engagement(app, session, experts=experts[:2])
        report = await service.invite(
            session,
            engagement,
            [*experts, experts[3]],  # one name given twice, two already invited
            app.offsets,
            now=app.clock.now(),
            actor="test",
        )
    assert report.added == 3 * 4  # pre-brief, reminder, check-in and de-brief for three
    async with app.sessions() as session:
        invited = Counter(await session.scalars(select(Invitation.expert_id)))
    assert sorted(invited) == sorted(e.id for e in experts) and set(invited.values()) == {1}
    per_person = Counter((m.expert_id, m.purpose) for m in await outbox(app))
    assert set(per_person.values()) == {1}
    assert {p for _, p in per_person} == {
        Purpose.PRE_BRIEF,
        Purpose.REMINDER,
        Purpose.CHECK_IN,
        Purpose.DE_BRIEF,
    }

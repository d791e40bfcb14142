"""One answer to "may this happen now?": the services refuse what the pages refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements import plans as plan_service
from bot.services.engagements.lifecycle import EngagementError
from bot.services.engagements.rules import may_cancel, may_change_plan, may_move
from scheduling.clock import SimulatedClock
from store.enums import EngagementStatus, MessageStatus
from store.models import Engagement, Message
from tests.builders import add_engagement, add_expert


async def _finished(app: App) -> Engagement:
    """A published engagement, still to come, marked finished."""
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        engagement.status = EngagementStatus.COMPLETED
    return engagement


async def test_a_finished_engagement_cannot_be_cancelled_whatever_the_clock_says(
    app: App, clock: SimulatedClock
) -> None:
    engagement = await _finished(app)
    assert engagement.ends_at > clock.now()
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, engagement.id)
        assert may_cancel(loaded, clock.now()) is not None
        with pytest.raises(EngagementError, match="already happened, so it cannot be cancelled"):
            await engagement_service.cancel(session, loaded, "late", now=clock.now(), actor="t")
    async with app.sessions() as session:
        saved = await engagement_service.get_engagement(session, engagement.id)
        assert saved.status is EngagementStatus.COMPLETED and saved.cancel_reason is None
        statuses = set(await session.scalars(select(Message.status)))
        assert MessageStatus.CANCELLED not in statuses


async def test_a_finished_engagement_cannot_be_moved_or_have_its_plan_changed(
    app: App, clock: SimulatedClock
) -> None:
    engagement = await _finished(app)
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, engagement.id)
        assert may_move(loaded) == "This engagement is finished, so it cannot be moved"
        assert may_change_plan(loaded) is not None
        with pytest.raises(EngagementError, match="finished, so it cannot be moved"):
            await engagement_service.move(
                session,
                loaded,
                loaded.starts_at + timedelta(days=1),
                loaded.ends_at + timedelta(days=1),
                app.offsets,
                now=clock.now(),
                actor="t",
            )
        with pytest.raises(EngagementError, match="contact plan cannot change"):
            await plan_service.set_for_engagement(
                session, loaded, {"pre_brief_days": 9}, app.offsets, now=clock.now(), actor="t"
            )


async def test_a_draft_can_still_be_moved_by_the_service(app: App, clock: SimulatedClock) -> None:
    """The CLI has no edit command: it moves a draft's time with `move`."""
    async with app.sessions.begin() as session:
        draft = await add_engagement(app, session, publish=False)
        assert may_move(draft) is None
        await engagement_service.move(
            session,
            draft,
            draft.starts_at + timedelta(days=1),
            draft.ends_at + timedelta(days=1),
            app.offsets,
            now=clock.now(),
            actor="t",
        )

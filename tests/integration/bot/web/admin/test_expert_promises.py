"""An expert's page says, in plain words, what we told them we would do and have not done."""

from __future__ import annotations

import html

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.inbox.tasks import close_task
from scheduling.clock import SimulatedClock
from store.enums import Purpose
from store.models import Task
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in


async def test_the_expert_page_lists_open_promises_until_they_are_kept(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        ana = await add_expert(
            app,
            session,
            fallback_channels="phone",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[ana])
    [pre_brief] = await outbox(app, purpose=Purpose.PRE_BRIEF)
    clock.set(pre_brief.due_at)
    await app.dispatcher().run_until_idle()
    async with signed_in(app, "sam@example.org") as sam:
        page = html.unescape((await sam.get(f"/experts/{ana.id}")).text)
        assert "What we said we would do" in page
        assert "We said we would send or go over the full details about First contact" in page
        assert "None" not in page.split("What we said we would do")[1][:400]
        tasks = html.unescape((await sam.get("/tasks")).text)
        assert "Go over the details with them" in tasks
    async with app.sessions.begin() as session:
        task_id = await session.scalar(select(Task.id).where(Task.expert_id == ana.id))
        assert task_id is not None
        await close_task(session, task_id, "done", clock.now())
    async with signed_in(app, "sam@example.org") as sam:
        page = html.unescape((await sam.get(f"/experts/{ana.id}")).text)
        assert "every follow-up we promised them has been done" in page

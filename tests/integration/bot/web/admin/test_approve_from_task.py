"""A keeping-in-touch draft is approved on its task's page (not with a command), with the
worker's own line; a task of another kind cannot be "approved"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from store.enums import PastoralLevel, Purpose, TaskKind, TaskStatus
from store.models import Message, Staff, Task
from tests.builders import add_expert
from tests.staff_client import add_account, signed_in


async def _draft_task(app: App) -> Task:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(app, session, ref="EX-1")
        expert.pastoral_level = PastoralLevel.MONTHLY
        expert.created_at = app.clock.now() - timedelta(days=40)
        staff = await session.scalar(select(Staff))
        assert staff is not None
        staff.approve_pastoral = True
    await app.maintenance().plan_pastoral()
    async with app.sessions() as session:
        task = await session.scalar(select(Task).where(Task.kind == TaskKind.APPROVE_PASTORAL))
    assert task is not None
    return task


async def test_a_draft_is_approved_on_its_task_page_with_a_note(app: App) -> None:
    task = await _draft_task(app)
    async with signed_in(app, "sam@example.org") as sam:
        page = (await sam.get(f"/tasks/{task.id}")).text
        assert "Approve the message" in page and "linkline" not in page.split("<main")[1]
        done = await sam.post(f"/tasks/{task.id}/approve", {"note": "Thanks for Tuesday"})
        assert (done.status_code, done.headers["location"]) == (303, "/tasks")
        again = await sam.post(f"/tasks/{task.id}/approve", {"note": ""})
        assert again.status_code == 409
    async with app.sessions() as session:
        draft = await session.scalar(select(Message).where(Message.purpose == Purpose.PASTORAL))
        closed = await session.get(Task, task.id)
    assert draft is not None and draft.approved_at is not None
    assert draft.personal_note == "Thanks for Tuesday"
    assert closed is not None and closed.status is TaskStatus.DONE


async def test_a_note_too_long_is_refused_and_nothing_is_approved(app: App) -> None:
    task = await _draft_task(app)
    async with signed_in(app, "sam@example.org") as sam:
        refused = await sam.post(f"/tasks/{task.id}/approve", {"note": "x" * 400})
        assert refused.status_code == 400
    async with app.sessions() as session:
        draft = await session.scalar(select(Message).where(Message.purpose == Purpose.PASTORAL))
    assert draft is not None and draft.approved_at is None

"""The gate on the dispatcher's side: words typed by staff meet the discreet word list on a
channel not safe for details, and what it holds back is a task and a line staff can read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts import pastoral as pastoral_service
from scheduling.clock import SimulatedClock
from store.enums import MessageStatus, PastoralLevel, Purpose, Role, TaskKind, TaskStatus
from store.models import Message, Staff
from tests.builders import add_expert, all_tasks
from tests.staff_client import add_account, signed_in


async def _approved_hello(app: App, note: str, **expert: object) -> Message:
    """Ana's keeping-in-touch message, approved by Sam with his own line."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Ali Admin", email="ali@example.org", role=Role.ADMIN)
        ana = await add_expert(app, session, **expert)
        ana.pastoral_level = PastoralLevel.MONTHLY
        ana.created_at = app.clock.now() - timedelta(days=40)
        sam = await session.scalar(select(Staff))
        assert sam is not None
        sam.approve_pastoral = True
    await app.maintenance().plan_pastoral()
    async with app.sessions.begin() as session:
        draft = await session.scalar(select(Message).where(Message.purpose == Purpose.PASTORAL))
        assert draft is not None
        await pastoral_service.approve(
            session, draft.id, sam, note, now=app.clock.now(), actor="test"
        )
        return draft


async def _after_sending(app: App, clock: SimulatedClock, draft: Message) -> Message:
    clock.set(draft.due_at)
    await app.dispatcher().run_until_idle()
    async with app.sessions() as session:
        sent = await session.get(Message, draft.id)
        assert sent is not None
        return sent


NOTE = "Lovely to see you at the lived experience survivors group."


@pytest.mark.db_contract
async def test_a_staff_line_with_a_blocked_word_is_refused_on_a_discreet_text(
    app: App, clock: SimulatedClock
) -> None:
    draft = await _approved_hello(app, NOTE)
    held = await _after_sending(app, clock, draft)
    assert held.status is MessageStatus.HANDED_TO_PERSON
    assert held.body is None and held.sent_at is None  # nothing went out, nothing was kept
    assert app.settings.resolved_outbox_dir.exists() is False or not any(
        NOTE in p.read_text(errors="ignore")
        for p in app.settings.resolved_outbox_dir.rglob("*")
        if p.is_file()
    )
    [task] = [t for t in await all_tasks(app) if t.kind is TaskKind.DELIVERY_PROBLEM]
    assert task.status is TaskStatus.OPEN
    details = task.details or ""
    assert "The message to Ana (Keeping in touch) was not sent by text message" in details
    assert "it contains \u201csurvivor\u201d" in details  # which word, and what to do
    assert "survivors group" not in details  # never the whole text
    assert "Change those words" in details
    async with signed_in(app, "sam@example.org") as sam:
        expert_page = (await sam.get(f"/experts/{held.expert_id}")).text
    async with signed_in(app, "ali@example.org") as ali:
        message_page = (await ali.get(f"/admin/delivery/{held.id}")).text
    assert "Held back by the safety checks" in expert_page
    assert "A planned message by text message was not sent: it contains" in expert_page
    assert "held back by the safety checks" in message_page


async def test_the_same_line_goes_where_details_are_safe(app: App, clock: SimulatedClock) -> None:
    draft = await _approved_hello(
        app, NOTE, consent={"sms": {"allowed": True, "details_safe": True}}
    )
    sent = await _after_sending(app, clock, draft)
    assert sent.status is MessageStatus.SENT
    assert NOTE in (sent.body or "")

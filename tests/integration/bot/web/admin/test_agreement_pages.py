"""The expert's page: their "not safe now" word and leaving with care, as staff use them.
Every wrong form says why beside the field and changes nothing; the word is never shown."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import App
from store.enums import ExpertStatus, InvitationAnswer, MessageStatus, Purpose, Role, TaskKind
from store.models import Expert, Invitation, Message, Task
from tests.builders import add_engagement, add_expert
from tests.integration.bot.web.admin.test_experts import _text, assert_error_by
from tests.staff_client import add_account, signed_in

SAM, ALI = "sam@example.org", "ali@example.org"


async def _ana(app: App) -> int:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Ali Khan", email=ALI, role=Role.ADMIN)
        ana = await add_expert(app, session, ref="EX-1")
        await add_engagement(app, session, experts=[ana])
        return ana.id


async def _expert(app: App, expert_id: int) -> Expert:
    async with app.sessions() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        return expert


async def test_the_page_shows_the_agreement_and_a_word_is_saved_but_never_shown(
    app: App,
) -> None:
    ana = await _ana(app)
    async with signed_in(app, SAM) as sam:
        words = _text(await sam.get(f"/experts/{ana}"))
        assert "Their contact agreement" in words and "“Not safe now” word Not set" in words
        refused = await sam.post(f"/experts/{ana}/not-safe-word", {"safe_word": "hello"})
        assert_error_by(refused, "safe_word", "too common")
        assert "hello" not in refused.text.split("</h1>", 1)[1].split("too common")[1]
        saved = await sam.post(f"/experts/{ana}/not-safe-word", {"safe_word": "Pineapple"})
        assert saved.status_code == 303
        page = _text(await sam.get(f"/experts/{ana}"))
        assert "Set on" in page and "ineapple" not in page
        assert "ineapple" not in (await sam.get(f"/experts/{ana}/not-safe-word")).text
        cleared = await sam.post(f"/experts/{ana}/not-safe-word", {"action": "clear"})
        assert cleared.status_code == 303
    assert (await _expert(app, ana)).safe_word_hash is None


async def test_withdrawing_asks_to_confirm_then_stops_everything(app: App) -> None:
    ana = await _ana(app)
    async with signed_in(app, SAM) as sam:
        form = {"reason": "Moving away", "goodbye": "Thank you, Ana. The door is open."}
        unconfirmed = await sam.post(f"/experts/{ana}/withdraw", form)
        assert_error_by(unconfirmed, "confirm", "Confirm that they want to leave")
        assert (await _expert(app, ana)).status is ExpertStatus.ACTIVE
        blank = await sam.post(f"/experts/{ana}/withdraw", {"reason": " ", "confirm": "yes"})
        assert_error_by(blank, "reason", "why they are leaving")
        done = await sam.post(f"/experts/{ana}/withdraw", {**form, "confirm": "yes"})
        assert done.status_code == 303
        page = _text(await sam.get(f"/experts/{ana}"))
        assert "They have left" in page and "Left on" in page
        assert "Their record is erased on 12 January 2027" in page
        left = _text(await sam.get(f"/experts/{ana}/withdraw"))
        assert "Their record is erased on 12 January 2027" in left
        again = await sam.post(f"/experts/{ana}/withdraw", {**form, "confirm": "yes"})
        assert again.status_code == 400 and "They have already left" in _text(again)
    expert = await _expert(app, ana)
    assert expert.status is ExpertStatus.WITHDRAWN and expert.withdrawal_reason == "Moving away"
    async with app.sessions() as session:
        messages = list(await session.scalars(select(Message).where(Message.expert_id == ana)))
        invitation = await session.scalar(select(Invitation).where(Invitation.expert_id == ana))
        tasks = list(await session.scalars(select(Task)))
    waiting = [m for m in messages if m.status is MessageStatus.PENDING]
    assert [m.purpose for m in waiting] == [Purpose.GOODBYE]
    assert all(m.status is MessageStatus.CANCELLED for m in messages if m not in waiting)
    assert invitation is not None and invitation.answer is InvitationAnswer.NO
    kinds = sorted(t.kind for t in tasks)
    assert kinds == sorted([TaskKind.EXIT_CONVERSATION, TaskKind.EXPERT_LEFT])
    [exit_task] = [t for t in tasks if t.kind is TaskKind.EXIT_CONVERSATION]
    assert "Reason recorded: Moving away" in (exit_task.details or "")
    assert "as the Privacy page says" in (exit_task.details or "")
    assert "their record until 12 January 2027, when it is erased" in (exit_task.details or "")


async def test_only_their_link_worker_writes_the_goodbye(app: App) -> None:
    ana = await _ana(app)
    async with signed_in(app, ALI) as ali:
        assert "Only Sam Taylor can write them a goodbye" in _text(
            await ali.get(f"/experts/{ana}/withdraw")
        )
        form = {"reason": "Moving away", "goodbye": "Bye from the office", "confirm": "yes"}
        refused = await ali.post(f"/experts/{ana}/withdraw", form)
        assert refused.status_code == 400  # a goodbye typed in anyway is refused
        assert "Only their link worker, or whoever covers" in _text(refused)
        assert (await _expert(app, ana)).status is ExpertStatus.ACTIVE
        # Without a goodbye an administrator may record it.
        done = await ali.post(f"/experts/{ana}/withdraw", {**form, "goodbye": ""})
        assert done.status_code == 303
    assert (await _expert(app, ana)).status is ExpertStatus.WITHDRAWN

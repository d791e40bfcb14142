"""Tasks as link workers work through them: urgent first, a call's number only for those who
may see the expert, and closing a task with what happened (which also reads its reply)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.staff.accounts import find_staff, set_cover
from scheduling.people.task_scripts import render_task_script
from scheduling.people.tasks import open_task
from store.enums import TaskKind, TaskStatus
from store.models import AuditEvent, Expert, Reply, Task
from tests.builders import add_expert, all_tasks
from tests.integration.bot.web.admin.test_replies import team, text_in
from tests.staff_client import signed_in


async def task_of(app: App, kind: TaskKind) -> Task:
    [task] = [t for t in await all_tasks(app) if t.kind is kind]
    return task


async def test_urgent_tasks_come_first_under_their_own_heading(app: App) -> None:
    await team(app)
    await text_in(app, "call me")
    await text_in(app, "I can't cope any more")
    async with app.sessions.begin() as session:
        sam = await find_staff(session, "sam@example.org")
        await open_task(
            session,
            kind=TaskKind.REIMBURSE_COSTS,
            title="Pay back costs",
            now=app.clock.now(),
            assignee=sam,
        )
    async with signed_in(app, "sam@example.org") as sam_client:
        page = await sam_client.get("/tasks")
    assert page.status_code == 200
    text = page.text
    urgent = text.index(">Urgent</h2>")
    calls = text.index("Phone calls</h2>")
    others = text.index("Everything else</h2>")
    assert urgent < text.index("Urgent: a worrying reply") < calls
    assert calls < text.index("Call back: they asked for a call") < others
    assert others < text.index("Pay back costs")
    assert "EX-1" in text and "Sam Taylor" in text
    assert "Ana" not in text  # the list names experts by reference only


async def test_mine_only_leaves_out_tasks_assigned_to_nobody(app: App) -> None:
    await team(app)
    await text_in(app, "call me")
    async with app.sessions.begin() as session:
        expert = await session.scalar(select(Expert))
        await open_task(
            session,
            kind=TaskKind.VENUE_VISIT,
            title="Someone must go to the venue",
            now=app.clock.now(),
            assignee=None,
            expert=expert,
        )
    async with signed_in(app, "sam@example.org") as sam:
        everything = (await sam.get("/tasks")).text
        mine = (await sam.get("/tasks?mine=1")).text
    assert "Someone must go to the venue" in everything and "Anyone" in everything
    assert "Someone must go to the venue" not in mine
    assert "Call back: they asked for a call" in mine


async def test_a_call_back_shows_the_number_and_closing_it_reads_its_reply(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "call me")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get(f"/tasks/{task.id}")
        assert page.status_code == 200
        assert "+447123456789" in page.text  # the expert is Sam's: the number shows
        assert "Safe times to call" in page.text
        assert "What happened?" in page.text and "Spoke to them" in page.text
        assert ">None</textarea>" not in page.text
        assert '<a class="govuk-link" href="/experts/' in page.text
        assert f"/replies/{reply_id}" in page.text
        done = await sam.post(
            f"/tasks/{task.id}/done", {"result": "Spoke to them", "outcome": "coming Tuesday"}
        )
        assert (done.status_code, done.headers["location"]) == (303, "/tasks")
        listed = await sam.get("/tasks")
        assert "The reply it was opened for is marked as read" in listed.text
        assert f"/tasks/{task.id}" not in listed.text
        closed = await sam.get(f"/tasks/{task.id}")
        assert "Done" in closed.text and "Spoke to them: coming Tuesday" in closed.text
        assert "Close the task" not in closed.text
        again = await sam.post(f"/tasks/{task.id}/done", {"outcome": "twice"})
        assert again.status_code == 409 and "already closed" in again.text
    async with app.sessions() as session:
        saved = await session.get(Task, task.id)
        reply = await session.get(Reply, reply_id)
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "task.done"))
    assert saved is not None and saved.status is TaskStatus.DONE
    assert saved.outcome == "Spoke to them: coming Tuesday"
    assert reply is not None and reply.acknowledged_at is not None
    assert audit is not None and audit.actor == "sam@example.org"


async def test_free_text_alone_is_a_good_outcome(app: App) -> None:
    await team(app)
    await text_in(app, "call me")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with signed_in(app, "sam@example.org") as sam:
        done = await sam.post(f"/tasks/{task.id}/done", {"outcome": "Rang twice, texted"})
    assert done.status_code == 303
    async with app.sessions() as session:
        saved = await session.get(Task, task.id)
    assert saved is not None and saved.outcome == "Rang twice, texted"


async def test_a_missing_or_long_outcome_is_refused_and_nothing_is_saved(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "call me")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with signed_in(app, "sam@example.org") as sam:
        empty = await sam.post(f"/tasks/{task.id}/done", {"outcome": "   "})
        assert empty.status_code == 400
        assert "Say what happened, in a few words" in empty.text
        assert 'href="#outcome"' in empty.text  # the summary links to the field
        long = await sam.post(f"/tasks/{task.id}/done", {"outcome": "x" * 301})
        assert long.status_code == 400
        assert "What happened must be 300 characters or fewer" in long.text
        assert "x" * 301 in long.text  # what they typed is kept for them to shorten
        odd = await sam.post(f"/tasks/{task.id}/done", {"result": "Made it up"})
        assert odd.status_code == 400 and 'href="#result"' in odd.text
    async with app.sessions() as session:
        saved = await session.get(Task, task.id)
        reply = await session.get(Reply, reply_id)
    assert saved is not None and saved.status is TaskStatus.OPEN and saved.outcome is None
    assert reply is not None and reply.acknowledged_at is None


async def test_a_link_worker_out_of_scope_gets_not_found(app: App) -> None:
    await team(app)
    await text_in(app, "call me")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with signed_in(app, "jo@example.org") as jo:
        assert "Call back" not in (await jo.get("/tasks")).text
        assert (await jo.get(f"/tasks/{task.id}")).status_code == 404
        assert (await jo.post(f"/tasks/{task.id}/done", {"outcome": "x"})).status_code == 404
        assert (await jo.get("/tasks/99999999999999999999999")).status_code == 404
        assert (await jo.get("/tasks/not-a-number")).status_code == 404
    async with app.sessions() as session:
        saved = await session.get(Task, task.id)
    assert saved is not None and saved.status is TaskStatus.OPEN


async def test_the_number_is_hidden_when_the_expert_is_not_theirs(app: App) -> None:
    """Jo is given a call for Sam's expert: Jo sees the task, not Ana's number."""
    await team(app)
    async with app.sessions.begin() as session:
        jo = await find_staff(session, "jo@example.org")
        expert = await session.scalar(select(Expert))
        task = await open_task(
            session,
            kind=TaskKind.PHONE_CALL,
            title="Phone call to make",
            details="Phone them about Tuesday.",
            now=app.clock.now(),
            assignee=jo,
            expert=expert,
        )
    async with signed_in(app, "jo@example.org") as jo_client:
        page = await jo_client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "Phone them about Tuesday." in page.text
    assert "+447123456789" not in page.text and "Ana" not in page.text


async def test_the_covering_colleague_works_the_tasks_while_the_owner_is_away(app: App) -> None:
    await team(app)
    await text_in(app, "call me")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with app.sessions.begin() as session:
        sam, jo = (
            await find_staff(session, "sam@example.org"),
            await find_staff(session, "jo@example.org"),
        )
        assert sam is not None and jo is not None
        await set_cover(
            session, sam, jo, date(2026, 1, 12), date(2026, 1, 16), now=app.clock.now(), actor="t"
        )
    async with signed_in(app, "jo@example.org") as jo_client:
        assert f"/tasks/{task.id}" in (await jo_client.get("/tasks")).text
        page = await jo_client.get(f"/tasks/{task.id}")
        assert page.status_code == 200 and "+447123456789" in page.text
        done = await jo_client.post(f"/tasks/{task.id}/done", {"result": "Left a message"})
        assert done.status_code == 303
    async with app.sessions() as session:
        saved = await session.get(Task, task.id)
    assert saved is not None and saved.outcome == "Left a message"


async def test_an_administrator_sees_every_task(app: App) -> None:
    await team(app)
    async with app.sessions.begin() as session:
        await add_expert(app, session, preferred_name="Ben", phone="07123 456780", ref="EX-2")
    await text_in(app, "call me", sender="+447123456780")
    task = await task_of(app, TaskKind.CALL_BACK)
    async with signed_in(app, "alex@example.org") as alex:
        assert f"/tasks/{task.id}" in (await alex.get("/tasks")).text
        assert "+447123456780" in (await alex.get(f"/tasks/{task.id}")).text


async def test_a_follow_up_shows_its_suggested_words_set_apart(app: App) -> None:
    """The script is the one the follow-up job chose from templates/tasks/ when it opened
    the task; the page shows it, with the words to say set apart."""
    await team(app)
    async with app.sessions.begin() as session:
        sam = await find_staff(session, "sam@example.org")
        expert = await session.scalar(select(Expert))
        task = await open_task(
            session,
            kind=TaskKind.WELCOME_BACK,
            title="Get in touch gently: a pause has ended",
            details=render_task_script(
                "welcome_back",
                name="Ana",
                worker="Sam",
                route="text message",
                safe_times="every day, 9am to 8pm",
                ended="Monday 12 January 2026",
            ),
            now=app.clock.now(),
            assignee=sam,
            expert=expert,
        )
    async with signed_in(app, "sam@example.org") as sam_client:
        page = await sam_client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "What to do" in page.text
    assert '<div class="govuk-inset-text">&#34;Hi Ana, it&#39;s Sam.' in page.text
    assert "+447123456789" not in page.text  # not a phone task: no number here

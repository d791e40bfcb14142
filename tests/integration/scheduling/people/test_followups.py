"""The periodic follow-ups as a link worker notices them: a task to get in touch gently
when a pause ends, and a task to check in after a long silence. Never a message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements.attendance import record_attendance
from bot.services.experts.profile import pause_expert, resume_expert
from bot.services.staff.accounts import set_cover
from scheduling.clock import SimulatedClock
from scheduling.people.followups import FollowupReport, open_due_followups
from scheduling.people.task_scripts import render_task_script
from scheduling.text.rendering import RenderError
from store.enums import ExpertStatus, InvitationAnswer, TaskKind, TaskStatus
from store.models import Expert, Message, Reply, Task
from tests.builders import add_engagement, add_expert, add_staff
from tests.conftest import START
from tests.unit.scheduling.text.test_templates import blocked_words

SILENCE = 90


async def _followups(app: App, clock: SimulatedClock, when: datetime) -> FollowupReport:
    clock.set(when)
    async with app.sessions.begin() as session:
        return await open_due_followups(session, clock.now(), silence_days=SILENCE)


async def _tasks(app: App, kind: TaskKind) -> list[Task]:
    async with app.sessions() as session:
        query = select(Task).where(Task.kind == kind).order_by(Task.id)
        return list(await session.scalars(query))


async def _pause(app: App, expert_id: int, until: date | None) -> None:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        await pause_expert(session, expert, until=until, now=app.clock.now(), actor="test")


async def _messages(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


@contextmanager
def _statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)


# --- a pause that ends ---------------------------------------------------------------------


@pytest.mark.db_contract
async def test_when_a_pause_ends_the_link_worker_gets_a_gentle_task_and_nothing_is_sent(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, preferred_name="Ana Morrison")
    await _pause(app, expert.id, date(2026, 3, 1))
    # The evening before, London time: still paused.
    assert await _followups(app, clock, datetime(2026, 2, 28, 23, 30, tzinfo=UTC)) == (
        FollowupReport(0, 0)
    )
    report = await _followups(app, clock, datetime(2026, 3, 1, 0, 30, tzinfo=UTC))
    assert report.welcome_back == 1
    (task,) = await _tasks(app, TaskKind.WELCOME_BACK)
    assert task.status is TaskStatus.OPEN and task.expert_id == expert.id
    assert task.title == "Get in touch gently: a pause has ended"
    assert "Ana" not in task.title  # names only in the encrypted details
    assert task.details is not None
    assert "Ana Morrison asked for a pause until Sunday 1 March 2026" in task.details
    assert "Hi Ana Morrison, it's Sam." in task.details
    assert "text message" in task.details and "Safe times: every day, 9am to 8pm." in task.details
    async with app.sessions() as session:
        sam = await add_staff(session)
    assert task.assignee_id == sam.id
    assert await _messages(app) == 0
    # Running again, later, opens nothing new.
    again = await _followups(app, clock, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert again.welcome_back == 0
    assert len(await _tasks(app, TaskKind.WELCOME_BACK)) == 1


async def test_the_pause_ends_on_the_experts_own_calendar(app: App, clock: SimulatedClock) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, time_zone="Pacific/Auckland")
    await _pause(app, expert.id, date(2026, 3, 1))
    # 12:00 UTC on 28 February is already 1am on 1 March in Auckland.
    report = await _followups(app, clock, datetime(2026, 2, 28, 12, 0, tzinfo=UTC))
    assert report.welcome_back == 1


async def test_while_the_link_worker_is_away_the_task_goes_to_their_cover(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        sam = await add_staff(session)
        jo = await add_staff(session, name="Jo Reid", email="jo@example.org")
        await set_cover(
            session, sam, jo, date(2026, 2, 27), date(2026, 3, 6), now=clock.now(), actor="test"
        )
        jo_id = jo.id
    await _pause(app, expert.id, date(2026, 3, 1))
    await _followups(app, clock, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    (task,) = await _tasks(app, TaskKind.WELCOME_BACK)
    assert task.assignee_id == jo_id
    assert task.details is not None and "it's Jo, covering for Sam" in task.details


async def test_a_pause_until_they_get_in_touch_never_ends_by_itself(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
    await _pause(app, expert.id, None)
    report = await _followups(app, clock, START + timedelta(days=400))
    assert report == FollowupReport(0, 0)  # no welcome back, and a pause is not a silence


# --- long silences -------------------------------------------------------------------------


async def test_someone_not_heard_from_for_the_silence_period_gets_one_check_in_task(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, preferred_name="Ben")
    assert await _followups(app, clock, START + timedelta(days=SILENCE - 1)) == FollowupReport()
    report = await _followups(app, clock, START + timedelta(days=SILENCE))
    assert report.get_in_touch == 1
    (task,) = await _tasks(app, TaskKind.GET_IN_TOUCH)
    assert task.expert_id == expert.id and "Ben" not in task.title
    assert task.details is not None
    assert "We have not heard from Ben since Monday 12 January 2026" in task.details
    assert "preferred safe route: text message" in task.details
    assert await _messages(app) == 0
    # One silence, one task, however often the job runs.
    for later in (1, 30):
        again = await _followups(app, clock, START + timedelta(days=SILENCE + later))
        assert again.get_in_touch == 0
    assert len(await _tasks(app, TaskKind.GET_IN_TOUCH)) == 1


async def test_a_reply_ends_the_silence_and_a_new_silence_gives_a_new_task(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
    await _followups(app, clock, START + timedelta(days=SILENCE))
    reply_at = START + timedelta(days=100)
    async with app.sessions.begin() as session:
        session.add(Reply(expert_id=expert.id, channel="sms", body="hi", received_at=reply_at))
    assert (await _followups(app, clock, reply_at + timedelta(days=SILENCE - 1))).get_in_touch == 0
    assert (await _followups(app, clock, reply_at + timedelta(days=SILENCE))).get_in_touch == 1
    assert len(await _tasks(app, TaskKind.GET_IN_TOUCH)) == 2


async def test_an_old_reply_deleted_after_the_task_opened_does_not_start_a_second_silence(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        session.add(
            Reply(
                expert_id=expert.id, channel="sms", body="hi", received_at=START + timedelta(days=3)
            )
        )
    assert (await _followups(app, clock, START + timedelta(days=SILENCE + 3))).get_in_touch == 1
    async with app.sessions.begin() as session:  # replies are deleted after the retention period
        await session.execute(delete(Reply))
    assert (await _followups(app, clock, START + timedelta(days=SILENCE + 4))).get_in_touch == 0
    assert len(await _tasks(app, TaskKind.GET_IN_TOUCH)) == 1


async def test_answers_meetings_they_came_to_and_coming_back_all_count_as_hearing_from_them(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        answered = await add_expert(app, session, ref="ANS", phone="07123 456701")
        came = await add_expert(app, session, ref="CAME", phone="07123 456702")
        resumed = await add_expert(app, session, ref="BACK", phone="07123 456703")
        silent = await add_expert(app, session, ref="QUIET", phone="07123 456704")
        engagement = await add_engagement(app, session, experts=[answered, came])
    clock.set(START + timedelta(days=5))
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, engagement.id)
        await engagement_service.record_answer(
            session,
            engagement,
            answered.id,
            InvitationAnswer.MAYBE,
            app.offsets,
            now=clock.now(),
            actor="test",
        )
    await _pause(app, resumed.id, None)
    clock.set(engagement.ends_at)
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, engagement.id)
        person = await session.get(Expert, came.id)
        assert person is not None
        await record_attendance(session, engagement, person, True, now=clock.now(), actor="test")
    clock.set(START + timedelta(days=20))
    async with app.sessions.begin() as session:
        person = await session.get(Expert, resumed.id)
        assert person is not None
        await resume_expert(session, person, now=clock.now(), actor="test")
    await _followups(app, clock, START + timedelta(days=SILENCE + 2))
    assert [t.expert_id for t in await _tasks(app, TaskKind.GET_IN_TOUCH)] == [silent.id]


async def test_paused_and_withdrawn_experts_get_no_silence_task(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        paused = await add_expert(app, session, ref="P", phone="07123 456701")
        dated = await add_expert(app, session, ref="D", phone="07123 456702")
        gone = await add_expert(app, session, ref="W", phone="07123 456703")
        gone.status = ExpertStatus.WITHDRAWN
    await _pause(app, paused.id, None)
    await _pause(app, dated.id, date(2026, 6, 1))
    report = await _followups(app, clock, datetime(2026, 5, 31, 12, 0, tzinfo=UTC))
    assert report.get_in_touch == 0
    # Once the dated pause ends they get a welcome back, not a "not heard from" task too:
    # the time they asked for does not count as silence.
    report = await _followups(app, clock, datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    assert report == FollowupReport(welcome_back=1, get_in_touch=0)
    later = await _followups(
        app, clock, datetime(2026, 6, 1, 9, 0, tzinfo=UTC) + timedelta(days=89)
    )
    assert later.get_in_touch == 0
    last = await _followups(app, clock, datetime(2026, 6, 1, 0, 0, tzinfo=UTC) + timedelta(days=90))
    assert last.get_in_touch == 1
    assert [t.expert_id for t in await _tasks(app, TaskKind.GET_IN_TOUCH)] == [dated.id]


async def test_checking_many_experts_takes_a_few_queries_not_one_each(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        for n in range(40):
            expert = await add_expert(app, session, ref=f"E{n}", phone=f"07123 4567{n:02d}")
            if n % 2:
                await pause_expert(
                    session, expert, until=date(2026, 2, 1), now=clock.now(), actor="test"
                )
    first = await _followups(app, clock, START + timedelta(days=SILENCE + 30))
    assert first == FollowupReport(welcome_back=20, get_in_touch=40)
    with _statements(app) as seen:
        again = await _followups(app, clock, START + timedelta(days=SILENCE + 31))
    assert again == FollowupReport(0, 0)
    assert len(seen) <= 6, seen


# --- the scripts ---------------------------------------------------------------------------

SCRIPT_CONTEXT = {
    "name": "Ana",
    "worker": "Sam",
    "route": "text message",
    "safe_times": "every day, 9am to 8pm",
    "ended": "Sunday 1 March 2026",
    "last_heard": "Monday 12 January 2026",
    "missed_in_a_row": 0,
    "title": "Survivors' panel",
    "when": "Tuesday 3 March at 2pm",
    "weekday": "Tuesday",
}


@pytest.mark.parametrize("script", ["welcome_back", "get_in_touch", "missed_you"])
def test_each_script_renders_and_what_the_expert_would_read_reveals_nothing(script: str) -> None:
    text = render_task_script(script, **SCRIPT_CONTEXT)
    quoted = text[text.index('"') :].lower()  # the words a person might send on
    assert quoted.startswith("\"hi ana, it's sam.")
    assert [w for w in blocked_words() if w in quoted] == []
    with pytest.raises(RenderError, match=f"tasks/{script}.txt"):
        render_task_script(script, name="Ana")

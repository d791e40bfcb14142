"""Recording who came, and the warm, no-blame follow-up a person makes for anyone who
missed it (R-3.6). Nothing is ever sent to the expert automatically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements.attendance import (
    AttendanceResult,
    parse_attendance,
    record_attendance,
)
from bot.services.engagements.lifecycle import EngagementError
from bot.services.experts.profile import pause_expert
from scheduling.clock import SimulatedClock
from store.enums import InvitationAnswer, TaskKind, TaskStatus
from store.models import Engagement, Expert, Invitation, Message, Task
from tests.builders import add_engagement, add_expert
from tests.unit.scheduling.text.test_templates import blocked_words


async def _record(app: App, engagement_id: int, expert_id: int, came: bool) -> AttendanceResult:
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, engagement_id)
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        return await record_attendance(
            session, engagement, expert, came, now=app.clock.now(), actor="test"
        )


async def _tasks(app: App) -> list[Task]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Task).order_by(Task.id)))


async def _attended(app: App, engagement_id: int, expert_id: int) -> bool | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(Invitation.attended).where(
                Invitation.engagement_id == engagement_id, Invitation.expert_id == expert_id
            )
        )


async def _meetings(app: App, count: int, **expert: str) -> tuple[int, list[Engagement]]:
    """One expert invited to ``count`` weekly meetings, the first ten days ahead."""
    async with app.sessions.begin() as session:
        person = await add_expert(app, session, **expert)
        meetings = [
            await add_engagement(
                app, session, starts_in=timedelta(days=10 + 7 * n, hours=6), experts=[person]
            )
            for n in range(count)
        ]
    return person.id, meetings


async def _messages(app: App) -> list[Message]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Message)))


@pytest.mark.parametrize(
    ("words", "came"),
    [
        ("came", True),
        ("Attended", True),
        (" yes ", True),
        ("missed", False),
        ("no", False),
        ("did  not come", False),
        ("didn\u2019t come", False),
        ("maybe", None),
        ("DNA", None),
        ("", None),
    ],
)
def test_attendance_is_read_from_the_words_people_use(words: str, came: bool | None) -> None:
    assert parse_attendance(words) is came


async def test_a_missed_meeting_gives_the_link_worker_a_warm_note_to_send_and_sends_nothing(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1, preferred_name="Ana")
    clock.set(meeting.ends_at)
    before = {m.id: m.status for m in await _messages(app)}
    result = await _record(app, meeting.id, expert_id, came=False)
    assert await _attended(app, meeting.id, expert_id) is False
    assert result.followup is not None and result.followup.check_in is None
    (task,) = [t for t in await _tasks(app) if t.kind is TaskKind.MISSED_YOU]
    assert task.title == "Send a warm note to someone who missed a meeting"
    assert task.assignee_id == meeting.lead_id and task.expert_id == expert_id
    assert task.due_at == clock.now() + timedelta(days=2)
    assert task.details is not None
    assert "Ana missed First contact workshop on Thursday 22 January at 2pm" in task.details
    note = task.details.split("A note you could send:")[1].lower()
    assert "we missed you on thursday" in note and "your place is still here" in note
    for unkind in ("did not attend", "dna", "failed to", "absence"):
        assert unkind not in task.details.lower()
    assert [w for w in blocked_words() if w in note] == []
    # Nothing new in the outbox, and nothing already planned changed.
    assert {m.id: m.status for m in await _messages(app)} == before


async def test_recording_the_same_absence_twice_gives_one_note(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1)
    clock.set(meeting.starts_at + timedelta(minutes=30))
    first = await _record(app, meeting.id, expert_id, came=False)
    again = await _record(app, meeting.id, expert_id, came=False)
    assert first.followup and again.followup
    assert first.followup.note.id == again.followup.note.id
    assert len(await _tasks(app)) == 1


async def test_two_missed_in_a_row_also_give_a_task_to_check_in(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, meetings = await _meetings(app, 4)
    clock.set(meetings[3].ends_at)
    for meeting, came in ((meetings[0], False), (meetings[1], True), (meetings[2], False)):
        result = await _record(app, meeting.id, expert_id, came=came)
        assert result.followup is None or result.followup.check_in is None
    second = await _record(app, meetings[3].id, expert_id, came=False)
    assert second.followup is not None and second.followup.in_a_row == 2
    check_in = second.followup.check_in
    assert check_in is not None and check_in.kind is TaskKind.GET_IN_TOUCH
    assert check_in.details is not None
    assert "has missed 2 meetings in a row" in check_in.details
    assert "preferred safe route: text message" in check_in.details
    kinds = [t.kind for t in await _tasks(app)]
    assert kinds.count(TaskKind.MISSED_YOU) == 3 and kinds.count(TaskKind.GET_IN_TOUCH) == 1


async def test_a_run_of_absences_gives_one_check_in_not_one_per_meeting(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, meetings = await _meetings(app, 3)
    clock.set(meetings[2].ends_at)
    for meeting in meetings:
        result = await _record(app, meeting.id, expert_id, came=False)
    assert result.followup is not None and result.followup.in_a_row == 3
    kinds = [t.kind for t in await _tasks(app)]
    assert kinds.count(TaskKind.GET_IN_TOUCH) == 1


async def test_correcting_missed_to_came_withdraws_the_follow_ups_and_back_again_restores_them(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, meetings = await _meetings(app, 2)
    clock.set(meetings[1].ends_at)
    await _record(app, meetings[0].id, expert_id, came=False)
    await _record(app, meetings[1].id, expert_id, came=False)
    corrected = await _record(app, meetings[1].id, expert_id, came=True)
    assert corrected.withdrawn_tasks == 2  # that meeting's note and the check-in it started
    by_kind = {(t.kind, t.engagement_id): t.status for t in await _tasks(app)}
    assert by_kind == {
        (TaskKind.MISSED_YOU, meetings[0].id): TaskStatus.OPEN,
        (TaskKind.MISSED_YOU, meetings[1].id): TaskStatus.CANCELLED,
        (TaskKind.GET_IN_TOUCH, meetings[1].id): TaskStatus.CANCELLED,
        # Someone came after all: the lead records their time and expenses.
        (TaskKind.RECORD_PAYMENTS, meetings[1].id): TaskStatus.OPEN,
    }
    await _record(app, meetings[1].id, expert_id, came=False)
    assert {t.status for t in await _tasks(app)} == {TaskStatus.OPEN}
    assert len(await _tasks(app)) == 4


async def test_no_follow_up_is_suggested_for_someone_who_paused_contact(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1)
    clock.set(meeting.ends_at)
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        await pause_expert(session, expert, until=None, now=clock.now(), actor="test")
    result = await _record(app, meeting.id, expert_id, came=False)
    assert result.followup is None and result.no_followup_because == "their contact is paused"
    assert await _attended(app, meeting.id, expert_id) is False
    assert await _tasks(app) == []


async def _refused(app: App, engagement_id: int, expert_id: int, came: bool, message: str) -> None:
    with pytest.raises(EngagementError, match=message):
        await _record(app, engagement_id, expert_id, came)
    assert await _attended(app, engagement_id, expert_id) is None
    assert await _tasks(app) == []


async def test_attendance_cannot_be_recorded_before_the_meeting_starts(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1)
    clock.set(meeting.starts_at - timedelta(minutes=1))
    await _refused(app, meeting.id, expert_id, False, "has not started yet")


async def test_attendance_cannot_be_recorded_for_a_cancelled_meeting(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1)
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        await engagement_service.cancel(session, engagement, "venue", now=clock.now(), actor="t")
    before = len(await _tasks(app))
    clock.set(meeting.ends_at)
    with pytest.raises(EngagementError, match="was cancelled, so nobody could come"):
        await _record(app, meeting.id, expert_id, False)
    assert await _attended(app, meeting.id, expert_id) is None
    assert len(await _tasks(app)) == before


async def test_only_invited_experts_who_did_not_say_no_can_be_missed(
    app: App, clock: SimulatedClock
) -> None:
    expert_id, (meeting,) = await _meetings(app, 1)
    async with app.sessions.begin() as session:
        stranger = await add_expert(app, session, ref="X9", phone="07123 456700")
        engagement = await engagement_service.get_engagement(session, meeting.id)
        await engagement_service.record_answer(
            session, engagement, expert_id, InvitationAnswer.NO, app.offsets,
            now=clock.now(), actor="test",
        )  # fmt: skip
    clock.set(meeting.ends_at)
    await _refused(app, meeting.id, stranger.id, False, "expert X9 is not invited to engagement")
    await _refused(app, meeting.id, expert_id, False, "said no to engagement .*not expected")

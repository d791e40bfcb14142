"""A whole attendance sheet in one call: who came, and every row's problem at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements.attendance import attendance_field, record_attendance_sheet
from bot.services.engagements.lifecycle import EngagementError
from scheduling.clock import SimulatedClock
from store.enums import InvitationAnswer
from store.models import Engagement
from tests.builders import add_engagement, add_expert


async def _meeting(app: App) -> Engagement:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, ref="EX-1", phone="07123 456701")
        bea = await add_expert(app, session, ref="EX-2", phone="07123 456702")
        cal = await add_expert(app, session, ref="EX-3", phone="07123 456703")
        return await add_engagement(app, session, experts=[ana, bea, cal])


async def test_a_sheet_records_who_came_and_who_missed(app: App, clock: SimulatedClock) -> None:
    meeting = await _meeting(app)
    ana, bea, cal = meeting.invitations
    clock.set(meeting.ends_at + timedelta(hours=1))
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        sheet = await record_attendance_sheet(
            session,
            engagement,
            {ana.id: True, bea.id: False, cal.id: None},
            now=clock.now(),
            actor="test",
        )
    assert sheet.follow_ups == 1  # Bea missed it: her link worker has a note to send
    async with app.sessions() as session:
        saved = await engagement_service.get_engagement(session, meeting.id)
    rows = {i.id: i.attended for i in saved.invitations}
    assert rows == {ana.id: True, bea.id: False, cal.id: None}


async def test_a_sheet_gathers_every_row_problem_and_refuses_before_the_meeting(
    app: App, clock: SimulatedClock
) -> None:
    meeting = await _meeting(app)
    ana, bea, _ = meeting.invitations
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        with pytest.raises(EngagementError, match="has not started yet"):
            await record_attendance_sheet(
                session, engagement, {ana.id: True}, now=clock.now(), actor="test"
            )
        for invitation in (ana, bea):
            await engagement_service.record_answer(
                session,
                engagement,
                invitation.expert_id,
                InvitationAnswer.NO,
                app.offsets,
                now=clock.now(),
                actor="test",
            )
    clock.set(meeting.ends_at + timedelta(hours=1))
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        with pytest.raises(EngagementError) as refused:
            await record_attendance_sheet(
                session,
                engagement,
                {ana.id: False, bea.id: False},
                now=clock.now(),
                actor="test",
            )
    assert set(refused.value.errors) == {attendance_field(ana.id), attendance_field(bea.id)}
    assert all("not expected" in text for text in refused.value.errors.values())

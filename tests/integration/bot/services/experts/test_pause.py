"""Pause and come back (R-3.4): a pause keeps someone's place, stops all but news of what
they said yes to, and ends on its date or when they get in touch."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.csv_files import export_experts
from bot.services.experts.profile import ExpertError, describe_status, pause_expert, resume_expert
from scheduling.clock import SimulatedClock
from store.enums import ExpertStatus, MessageStatus, Purpose
from store.models import AuditEvent, Expert, Invitation, Message
from tests.builders import add_engagement, add_expert


async def _pause(app: App, expert_id: int, until: date | None) -> None:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        await pause_expert(session, expert, until=until, now=app.clock.now(), actor="test")


async def _resume(app: App, expert_id: int) -> None:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        await resume_expert(session, expert, now=app.clock.now(), actor="test")


async def _expert(app: App, expert_id: int) -> Expert:
    async with app.sessions() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        return expert


async def _new(app: App, **overrides: str) -> int:
    async with app.sessions.begin() as session:
        return (await add_expert(app, session, **overrides)).id


async def test_a_dated_pause_shows_its_end_and_a_pause_without_a_date_waits_for_them(
    app: App,
) -> None:
    dated, open_ended = await _new(app), await _new(app, ref="B", phone="07123 456700")
    await _pause(app, dated, date(2026, 3, 1))
    await _pause(app, open_ended, None)
    now = app.clock.now()
    one, two = await _expert(app, dated), await _expert(app, open_ended)
    assert (one.status, one.paused_until) == (ExpertStatus.ACTIVE, date(2026, 3, 1))
    assert describe_status(one, now) == "paused until 2026-03-01"
    assert (two.status, two.paused_until) == (ExpertStatus.PAUSED, None)
    assert describe_status(two, now) == "paused until they get in touch"
    # On the day itself the pause is over.
    assert describe_status(one, now.replace(month=3, day=1)) == "active"


async def test_resume_clears_either_kind_of_pause(app: App) -> None:
    dated, open_ended = await _new(app), await _new(app, ref="B", phone="07123 456700")
    await _pause(app, dated, date(2026, 3, 1))
    await _pause(app, open_ended, None)
    for expert_id in (dated, open_ended):
        await _resume(app, expert_id)
        expert = await _expert(app, expert_id)
        assert (expert.status, expert.paused_until) == (ExpertStatus.ACTIVE, None)


async def test_pause_and_resume_are_audited_without_personal_data(app: App) -> None:
    expert_id = await _new(app, preferred_name="Ana Morrison")
    await _pause(app, expert_id, date(2026, 3, 1))
    await _resume(app, expert_id)
    async with app.sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "expert").order_by(AuditEvent.id)
            )
        )
    assert [e.action for e in events] == ["expert.created", "expert.paused", "expert.resumed"]
    assert all(e.entity_id == expert_id for e in events)
    assert all("Ana" not in str(e.data) for e in events)


async def test_a_pause_keeps_their_invitation_and_holds_back_messages_until_it_ends(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    # The pre-brief is due on 15 January, the reminder on 21 January.
    await _pause(app, expert.id, date(2026, 1, 18))
    async with app.sessions() as session:
        messages = {m.purpose: m for m in await session.scalars(select(Message))}
        assert len(list(await session.scalars(select(Invitation)))) == 1
    clock.set(messages[Purpose.PRE_BRIEF].due_at)
    await app.dispatcher().run_until_idle()
    clock.set(messages[Purpose.REMINDER].due_at)
    await app.dispatcher().run_until_idle()
    async with app.sessions() as session:
        after = {m.purpose: m for m in await session.scalars(select(Message))}
    assert after[Purpose.PRE_BRIEF].status is MessageStatus.SUPPRESSED
    assert "paused until 2026-01-18" in (after[Purpose.PRE_BRIEF].status_reason or "")
    assert after[Purpose.REMINDER].status is MessageStatus.SENT


@pytest.mark.parametrize("days_ahead", [0, -1])
async def test_a_pause_must_end_after_today(app: App, days_ahead: int) -> None:
    expert_id = await _new(app)
    today = app.clock.now().date()
    with pytest.raises(ExpertError, match="the pause must end after today"):
        await _pause(app, expert_id, today + timedelta(days=days_ahead))
    expert = await _expert(app, expert_id)
    assert (expert.status, expert.paused_until) == (ExpertStatus.ACTIVE, None)


async def test_someone_who_withdrew_cannot_be_paused_or_resumed(app: App) -> None:
    expert_id = await _new(app, ref="W1")
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        expert.status = ExpertStatus.WITHDRAWN
    with pytest.raises(ExpertError, match="expert W1 has withdrawn"):
        await _pause(app, expert_id, None)
    with pytest.raises(ExpertError, match="expert W1 has withdrawn"):
        await _resume(app, expert_id)
    assert (await _expert(app, expert_id)).status is ExpertStatus.WITHDRAWN


async def test_resuming_someone_who_is_not_paused_is_refused(app: App) -> None:
    expert_id = await _new(app, ref="A1")
    with pytest.raises(ExpertError, match="expert A1 is not paused"):
        await _resume(app, expert_id)


async def test_an_export_leaves_out_consent_while_a_dated_pause_lasts(app: App) -> None:
    expert_id = await _new(app)
    await _pause(app, expert_id, date(2026, 3, 1))
    async with app.sessions.begin() as session:
        exported = await export_experts(session, actor="test", now=app.clock.now())
    assert exported.consent_withheld == 1
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert row["consent_sms"] == "no"  # re-importing the file sends them nothing

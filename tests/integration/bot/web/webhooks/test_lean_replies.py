"""What the lean path for a text must still do: a repeat delivered at the same moment is
kept once, an answer given again is noted without touching the plan, and a changed answer
still re-plans."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from store.enums import InvitationAnswer, MessageStatus, Purpose
from store.models import AuditEvent, Invitation
from tests.builders import outbox
from tests.integration.bot.web.webhooks.test_replies_over_http import ana_with_a_pre_brief_sent
from tests.live import Live

ANA = "+447123456789"  # the builders' expert, "07123 456789"


async def _invitation(live: Live, expert_id: int) -> Invitation:
    async with live.app.sessions() as session:
        found = await session.scalar(select(Invitation).where(Invitation.expert_id == expert_id))
        assert found is not None
        return found


async def _answers_noted(live: Live, expert_id: int) -> int:
    async with live.app.sessions() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitation.answered")
        )
        return sum(1 for event in events if event.data.get("expert_id") == expert_id)


async def _plan(live: Live, expert_id: int) -> list[tuple[int, Purpose, MessageStatus]]:
    return [(m.id, m.purpose, m.status) for m in await outbox(live.app, expert_id=expert_id)]


@pytest.mark.db_contract
async def test_the_same_text_arriving_twice_at_once_is_kept_and_answered_once(
    live: Live,
) -> None:
    await ana_with_a_pre_brief_sent(live)
    sid = live.next_sid()
    responses = await asyncio.gather(*(live.text(ANA, "yes", sid=sid) for _ in range(4)))
    assert all(r.status_code == 200 for r in responses)
    assert sum("<Message>" in r.text for r in responses) == 1  # they hear from us once
    [reply] = await live.replies()
    assert (reply.intent, reply.provider_ref) == ("yes", f"twilio:{sid}")


@pytest.mark.db_contract
async def test_yes_given_again_is_noted_and_the_plan_is_left_as_it_was(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    first = await live.text(ANA, "yes")
    assert "Sam" in first.text and "Ana" in first.text
    planned = await _plan(live, ana.id)
    answered_at = (await _invitation(live, ana.id)).answered_at
    live.clock.advance(timedelta(hours=2))

    again = await live.text(ANA, "Yes!")

    assert "Sam" in again.text and "Ana" in again.text  # thanked again, as before
    invitation = await _invitation(live, ana.id)
    assert invitation.answer is InvitationAnswer.YES
    assert answered_at is not None and invitation.answered_at == answered_at + timedelta(hours=2)
    assert await _answers_noted(live, ana.id) == 2
    assert await _plan(live, ana.id) == planned
    replies = await live.replies()
    assert [r.intent for r in replies] == ["yes", "yes"]
    assert replies[0].in_reply_to_id == replies[1].in_reply_to_id is not None


@pytest.mark.db_contract
async def test_a_changed_answer_still_re_plans(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    await live.text(ANA, "yes")
    assert any(status is MessageStatus.PENDING for _, _, status in await _plan(live, ana.id))
    await live.text(ANA, "sorry can't make it")
    assert (await _invitation(live, ana.id)).answer is InvitationAnswer.NO
    assert all(status is not MessageStatus.PENDING for _, _, status in await _plan(live, ana.id))
    assert await _answers_noted(live, ana.id) == 2

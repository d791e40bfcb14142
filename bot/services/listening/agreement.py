"""The expert's own contact agreement, in one word: LATER, LESS, MORE, WHO, and their
private "not safe now" word, which stops everything and says nothing back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.services.experts.pastoral import set_contact_level
from bot.services.listening.inbound import ACTOR
from bot.services.listening.turn import Turn
from bot.services.listening.worrying import alert_and_hold
from scheduling.rules.agreement import end_of_today, moved_later, next_window, step_level
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.plan import AFTER_MEETING
from scheduling.rules.wording import spoken_datetime
from scheduling.text.agreement_text import how_often
from scheduling.text.words import in_sentence, label
from store.enums import MessageStatus, TaskKind
from store.models import Expert, Message

TOO_LATE = "they replied LATER, and their next safe time is past its deadline"


async def later(turn: Turn, expert: Expert, *_: object) -> str | None:
    """Today's messages that can wait go at their next safe window; news that changes
    their plans still goes. One that would be too late by then is not sent."""
    now = turn.now
    await turn.session.refresh(expert, ["windows"])
    target = next_window(now, contact_rules(expert, expert.preferred_channel, now))
    moved, dropped = 0, []
    for message in await _todays(turn, expert):
        new = moved_later(message.next_attempt_at, target, _deadline(message))
        if new is None:
            message.move(MessageStatus.SUPPRESSED, TOO_LATE, now)
            dropped.append(label(message.purpose))
        elif new != message.next_attempt_at:
            message.next_attempt_at, message.updated_at = new, now
            message.status_reason = "they replied LATER"
            moved += 1
    when = spoken_datetime(target, expert.time_zone) if target is not None else ""
    said = f"{moved} message(s) moved to {when}" if moved else "nothing else was due today"
    if dropped:
        said += f"; not sent, as later would be too late: {', '.join(dropped)}"
    await turn.tell_worker(expert, f"{expert.preferred_name} replied LATER: {said}.")
    return turn.render("later", {**turn.people(expert), "when": when if moved else ""})


async def _todays(turn: Turn, expert: Expert) -> list[Message]:
    query = (
        select(Message)
        .where(
            Message.expert_id == expert.id,
            Message.status == MessageStatus.PENDING,
            Message.next_attempt_at < end_of_today(turn.now, expert.time_zone),
        )
        .options(selectinload(Message.engagement))
        .order_by(Message.next_attempt_at, Message.id)
    )
    return [m for m in await turn.session.scalars(query) if not m.purpose.essential]


def _deadline(message: Message) -> datetime | None:
    """A message about an engagement that is meant for before it never arrives after."""
    engagement = message.engagement
    before = (
        engagement.starts_at
        if engagement is not None and message.purpose not in AFTER_MEETING
        else None
    )
    found = [m for m in (message.not_after, before) if m is not None]
    return min(found) if found else None


async def less(turn: Turn, expert: Expert, *_: object) -> str | None:
    return await _step(turn, expert, more=False)


async def more(turn: Turn, expert: Expert, *_: object) -> str | None:
    return await _step(turn, expert, more=True)


async def _step(turn: Turn, expert: Expert, *, more: bool) -> str | None:
    """One step along the keeping-in-touch levels, within the organisation's limits."""
    word = "MORE" if more else "LESS"
    old = expert.pastoral_level
    new = step_level(old, more, turn.rules.pastoral_min_days)
    if new is not old:
        await set_contact_level(
            turn.session,
            expert,
            new,
            min_days=turn.rules.pastoral_min_days,
            now=turn.now,
            actor=ACTOR,
        )
        news = f"keeping in touch is now {in_sentence(new)} (it was {in_sentence(old)})"
    elif more:
        news = f"keeping in touch stays {in_sentence(old)}, as often as we can: talk it over"
    else:
        news = f"keeping in touch stays {in_sentence(old)}, already the least"
    await turn.tell_worker(expert, f"{expert.preferred_name} replied {word}: {news}.")
    context = {**turn.people(expert), "level": how_often(new), "changed": new is not old}
    return turn.render("more" if more else "less", context)


async def who(turn: Turn, expert: Expert, *_: object) -> str | None:
    """Their link worker's first name and how to reach them, and nothing a stranger
    holding the phone could learn more from."""
    return turn.render("who", {**turn.people(expert), **turn.place()})


async def not_safe(turn: Turn, expert: Expert) -> None:
    """Their private word: every automated message stops at once, nothing is said back
    (someone may be reading over their shoulder), and whoever is at work for them gets an
    urgent task and an alert. A person lifts the hold by acknowledging the reply."""
    reply = turn.reply
    reply.intent, reply.urgent, reply.needs_person = "not_safe", True, True
    assignee = turn.assignee(expert)
    task = await turn.task_for_reply(
        TaskKind.NOT_SAFE,
        "Urgent: they said it is not safe for them now",
        f"{expert.preferred_name} sent their private \u201cnot safe now\u201d word by "
        f"{in_sentence(reply.channel)}. Every automated message to them is on hold, and "
        "nothing was sent back. Do not text, email or call them back: someone else may be "
        "reading. Wait for them to get in touch, or use a way you agreed with them for this. "
        "When you know they are safe, acknowledge the reply to lift the hold.",
        assignee=assignee,
        expert=expert,
        urgent=True,
    )
    await alert_and_hold(turn, expert, assignee, task, why="not_safe")
    turn.answer = None

"""A worrying reply: an urgent task, an alert to whoever is at work for them, the support
lines once, and quiet towards them until a person has looked."""

from __future__ import annotations

from bot.services.listening.turn import Turn
from scheduling.clock import local_today
from scheduling.people.reply_escalation import escalation_targets
from scheduling.rules.cover import responsible_staff
from scheduling.sending.gate import Kind
from scheduling.text.words import in_sentence
from store import audit
from store.enums import TaskKind
from store.models import Expert, Staff, Task


async def worrying(turn: Turn, expert: Expert) -> None:
    reply, now = turn.reply, turn.now
    reply.urgent = reply.needs_person = True
    assignee = responsible_staff(expert.link_worker, local_today(now, expert.time_zone))
    task = await turn.task_for_reply(
        TaskKind.URGENT_REPLY,
        "Urgent: a worrying reply. Please look within the hour",
        f"{expert.preferred_name} replied by {in_sentence(reply.channel)}. Read it on the "
        "Replies page, then get in touch. Messages to them are on hold until the reply is "
        "acknowledged.",
        assignee=assignee,
        expert=expert,
        urgent=True,
    )
    if await alert_and_hold(turn, expert, assignee, task):
        text = turn.render("worrying", {**turn.people(expert), **turn.lines(expert)})
        turn.say(expert, Kind.SUPPORT_LINES, text)
    # Already on hold: one reply with the lines is enough; a person is on the way.


async def alert_and_hold(
    turn: Turn, expert: Expert, assignee: Staff, task: Task, why: str = ""
) -> bool:
    """Whoever is at work for them hears at once (the administrators too when their worker
    is away with no cover), and automated contact stops until a person has looked. True
    when this reply put them on hold (they were not already)."""
    now = turn.now
    targets = [assignee]
    if assignee.is_away(local_today(now, turn.rules.office_tz)):
        targets += await escalation_targets(turn.session, assignee, now, turn.rules.office_tz)
    await turn.alert(targets, task)
    if expert.held_since is not None:
        return False
    expert.held_since = now
    audit.record(
        turn.session,
        actor="linkline",
        action="expert.held",
        entity="expert",
        entity_id=expert.id,
        at=now,
        reply_id=turn.reply.id,
        **({"why": why} if why else {}),
    )
    return True

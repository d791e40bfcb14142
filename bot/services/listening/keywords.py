"""The words the machine acts on by itself: STOP, START, PAUSE, HELP, CALL, PAID and PASS."""

from __future__ import annotations

from datetime import timedelta

from bot.services.experts.profile import ExpertError, is_paused, pause_expert, resume_expert
from bot.services.listening.answers import free_text
from bot.services.listening.inbound import ACTOR
from bot.services.listening.turn import Turn
from bot.services.payments.telling import owed_to
from scheduling.clock import local_today
from scheduling.rules.intents import Understood
from scheduling.text.words import in_sentence, label
from store.enums import TaskKind
from store.models import Expert, Message

STOP_REASON = "replied STOP"


async def stop(turn: Turn, expert: Expert, *_: object) -> str | None:
    point = turn.contact_point(expert)
    if point is not None and point.opted_out_at is not None:
        return None  # already stopped: the first acknowledgement was the last word here
    if point is not None:
        point.opted_out_at, point.opt_out_reason = turn.now, STOP_REASON
    await turn.tell_worker(
        expert,
        f"{expert.preferred_name} replied STOP by {in_sentence(turn.reply.channel)}: nothing "
        "more goes that way. Get in touch another way only if they agreed that.",
    )
    return turn.render("stop", turn.people(expert))


async def start(turn: Turn, expert: Expert, *_: object) -> str | None:
    point = turn.contact_point(expert)
    channel = turn.reply.channel
    changes = []
    if point is not None and point.opted_out_at is not None:
        if (point.opt_out_reason or "") == STOP_REASON:
            point.opted_out_at, point.opt_out_reason = None, None
            changes.append(f"messages by {in_sentence(channel)} are back on")
        else:
            changes.append(
                f"{label(channel)} stays off ({point.opt_out_reason}): check with them "
                "before turning it back on"
            )
    if is_paused(expert, turn.now):
        await resume_expert(turn.session, expert, now=turn.now, actor=ACTOR)
        changes.append("their pause has ended")
    await turn.tell_worker(
        expert,
        f"{expert.preferred_name} replied START: {'; '.join(changes) or 'nothing was off'}.",
    )
    return turn.render("start", turn.people(expert))


async def pause(
    turn: Turn, expert: Expert, understood: Understood, question: Message | None
) -> str | None:
    until = None
    if understood.pause_days is not None:
        until = local_today(turn.now, expert.time_zone) + timedelta(days=understood.pause_days)
    try:
        await pause_expert(turn.session, expert, until=until, now=turn.now, actor=ACTOR)
    except ExpertError:
        return await free_text(turn, expert, understood, None)
    when = f" until {until:%A %-d %B}" if until else " until they get in touch"
    await turn.tell_worker(expert, f"{expert.preferred_name} replied PAUSE: paused{when}.")
    return turn.render(
        "pause", {**turn.people(expert), "until": f"{until:%A %-d %B}" if until else ""}
    )


async def help_(turn: Turn, expert: Expert, *_: object) -> str | None:
    return turn.render("help", turn.people(expert))


async def call(turn: Turn, expert: Expert, *_: object) -> str | None:
    turn.reply.needs_person = True
    await turn.task_for_reply(
        TaskKind.CALL_BACK,
        "Call back: they asked for a call",
        f"{expert.preferred_name} replied CALL. Ring them in their safe hours.",
        assignee=turn.assignee(expert),
        expert=expert,
    )
    return turn.render("call", turn.people(expert))


async def paid(turn: Turn, expert: Expert, *_: object) -> str | None:
    """What we owe them; the amount only where the channel is safe for details."""
    owed = await owed_to(turn.session, expert)
    return turn.render("paid", {**turn.people(expert), **owed, "details": turn.details(expert)})


async def pass_(turn: Turn, *_: object) -> str | None:
    return None  # "PASS" triggers nothing, and is never chased

"""Messages from a number or chat no expert has (or several share), and linking a
Telegram chat with a code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.services.experts.telegram_links import LinkOutcome, redeem
from bot.services.listening.turn import Turn
from scheduling.people.reply_escalation import escalation_targets
from scheduling.sending.gate import Kind
from store.enums import Channel, TaskKind
from store.models import Reply


async def from_stranger(turn: Turn, matches: int) -> None:
    """Nothing about the service or its people is revealed; an administrator looks."""
    reply = turn.reply
    reply.intent = "stranger" if matches == 0 else "shared_number"
    reply.needs_person = True
    if turn.rules.distress.matches(turn.inbound.text):
        reply.urgent = True
        task = await turn.task_for_reply(
            TaskKind.STRANGER,
            "Urgent: a worrying message from an unknown number or chat",
            "Read it on the Replies page (the newest from an unknown sender), then decide "
            "who should get in touch.",
            assignee=None,
            urgent=True,
        )
        await turn.alert(
            await escalation_targets(turn.session, None, turn.now, turn.rules.office_tz), task
        )
        text = turn.render("stranger_worrying", {**turn.lines(None), **turn.place()})
        turn.say(None, Kind.SUPPORT_LINES, text)
        return
    if matches > 1 or reply.channel is Channel.EMAIL or await _answered_sender_lately(turn):
        # A number several experts share is for a person to sort out, not
        # to be told it is unknown; a stranger gets one neutral line a day at most. An
        # unknown email address gets none: most such mail is spam, and an answer would
        # tell its sender that the mailbox is read.
        return
    turn.say(None, Kind.ANSWER, turn.render("stranger", turn.place()))


async def link(turn: Turn, code: str) -> None:
    """A Telegram "/start <code>": the chat becomes the expert's, if the code is good."""
    result = await redeem(
        turn.session,
        cipher=turn.rules.cipher,
        chat_id=turn.reply.sender or "",
        code=code,
        now=turn.now,
    )
    if result.outcome is LinkOutcome.LINKED and result.expert is not None:
        expert = await turn.load_expert(result.expert.id)
        turn.reply.expert_id = expert.id
        turn.reply.intent = "linked"
        consented = any(c.channel is Channel.TELEGRAM and c.allowed for c in expert.consents)
        await turn.tell_worker(
            expert,
            f"{expert.preferred_name} linked their Telegram chat."
            + (
                ""
                if consented
                else " Nothing goes there until you have talked it through with them and "
                "recorded that they agree to Telegram, under \u201cWhat they agree to\u201d on "
                "their record."
            ),
        )
        turn.say(expert, Kind.LINKED, turn.render("linked", turn.people(expert)))
        return
    turn.reply.intent = "link_refused"
    if result.outcome is not LinkOutcome.TOO_MANY_TRIES:
        turn.say(None, Kind.ANSWER, turn.render("link_refused", {}))


async def _answered_sender_lately(turn: Turn) -> bool:
    count = await turn.session.scalar(
        select(func.count(Reply.id)).where(
            Reply.sender_hash == turn.reply.sender_hash,
            Reply.id != turn.reply.id,
            Reply.auto_answer.is_not(None),
            Reply.received_at > turn.now - timedelta(days=1),
        )
    )
    return bool(count)

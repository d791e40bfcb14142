"""A reply from an expert: what it meant, and which rule answers it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.services.experts.agreement import is_safe_word
from bot.services.listening import agreement, answers, keywords
from bot.services.listening.answers import attach_to_open_task
from bot.services.listening.turn import Turn
from bot.services.listening.worrying import worrying
from scheduling.rules.intents import Intent, Understood, understand
from scheduling.rules.questions import asked_by
from scheduling.sending.gate import Kind
from scheduling.sending.outbox import latest_question
from store.enums import TaskKind
from store.models import Expert, Message

Rule = Callable[[Turn, Expert, Understood, Message | None], Awaitable[str | None]]

# Provider keywords Twilio already acted on and answered (Advanced Opt-Out).
_PROVIDER_KEYWORDS = {"STOP": Intent.STOP, "START": Intent.START, "HELP": Intent.HELP}
RULES: dict[Intent, Rule] = {
    Intent.STOP: keywords.stop,
    Intent.START: keywords.start,
    Intent.PAUSE: keywords.pause,
    Intent.HELP: keywords.help_,
    Intent.CALL: keywords.call,
    Intent.PAID: keywords.paid,
    Intent.YES: answers.invitation,
    Intent.NO: answers.invitation,
    Intent.MAYBE: answers.invitation,
    Intent.SCORE: answers.score,
    Intent.PASS: keywords.pass_,
    Intent.LATER: agreement.later,
    Intent.LESS: agreement.less,
    Intent.MORE: agreement.more,
    Intent.WHO: agreement.who,
}


async def from_expert(turn: Turn, expert: Expert) -> None:
    reply, inbound = turn.reply, turn.inbound
    reply.expert_id = expert.id
    if is_safe_word(turn.rules.cipher, expert, inbound.text):
        await agreement.not_safe(turn, expert)  # before anything else, and nothing said back
        return
    question = await _question(turn, expert)
    reply.in_reply_to_id = question.id if question is not None else None
    understood = understand(inbound.text, asked_by(question), turn.rules.distress)
    provider_said = _PROVIDER_KEYWORDS.get((inbound.provider_keyword or "").upper())
    if provider_said is not None:
        understood = Understood(provider_said)
    reply.intent = "worrying" if understood.worrying else understood.intent.value
    reply.score = understood.score
    if understood.worrying:
        await worrying(turn, expert)
        return
    held = expert.held_since is not None
    rule = RULES.get(understood.intent, answers.free_text)
    said = await rule(turn, expert, understood, question)
    if held:
        # Someone is already due to look; this reply waits with the rest.
        reply.needs_person = True
        await attach_to_open_task(turn, expert, TaskKind.URGENT_REPLY)
    if provider_said is None and said is not None:
        # Twilio already answered its own keywords; everything else meets the gate.
        kind = Kind.STOP_ANSWER if understood.intent is Intent.STOP else Kind.ANSWER
        turn.say(expert, kind, said)


async def _question(turn: Turn, expert: Expert) -> Message | None:
    wanted = turn.inbound.answers_message_id
    if wanted is None:
        if expert.id in turn.asked:  # found with the sender
            return turn.asked[expert.id]
        with turn.reading():  # messages only
            return await latest_question(turn.session, expert.id, turn.now)
    message = await turn.session.get(Message, wanted)
    # A button only answers a message that was sent to this same person.
    return message if message is not None and message.expert_id == expert.id else None

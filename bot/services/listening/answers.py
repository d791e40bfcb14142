"""Answers to what we asked (yes/no/maybe to an invitation, a check-in score), and free
text, which a person reads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, exists, inspect, select

from bot.services.engagements.lifecycle import EngagementError, answer_again, record_answer
from bot.services.listening.inbound import ACTOR
from bot.services.listening.turn import Turn
from scheduling.planning.planner import load_engagement
from scheduling.rules.intents import Intent, Understood
from scheduling.text.words import in_sentence
from store.enums import EngagementStatus, InvitationAnswer, TaskKind, TaskStatus
from store.models import Expert, Message, Reply, Task

_ANSWERS = {
    Intent.YES: InvitationAnswer.YES,
    Intent.NO: InvitationAnswer.NO,
    Intent.MAYBE: InvitationAnswer.MAYBE,
}


async def invitation(
    turn: Turn, expert: Expert, understood: Understood, question: Message | None
) -> str | None:
    if _same_answer_again(turn, expert, understood, question):
        return turn.render(understood.intent.value, turn.people(expert))
    engagement = (
        # Everything re-planning their part reads (their invitation, their link worker)
        # comes loaded, and nobody else's.
        await load_engagement(turn.session, question.engagement_id, only=expert.id)
        if question is not None and question.engagement_id is not None
        else None
    )
    if engagement is None or engagement.status is EngagementStatus.CANCELLED:
        return await free_text(turn, expert, understood, question)
    if engagement.starts_at <= turn.now:
        return await free_text(turn, expert, understood, question)
    try:
        await record_answer(
            turn.session,
            engagement,
            expert.id,
            _ANSWERS[understood.intent],
            turn.rules.offsets,
            now=turn.now,
            actor=ACTOR,
        )
    except EngagementError:
        return await free_text(turn, expert, understood, question)
    return turn.render(understood.intent.value, turn.people(expert))


def _same_answer_again(
    turn: Turn, expert: Expert, understood: Understood, question: Message | None
) -> bool:
    """The answer they already gave, noted again without loading everyone invited or
    re-planning: read from the engagement and invitation loaded with the question."""
    if question is None or not _loaded(question, "engagement", "invitation"):
        return False
    engagement, invitation = question.engagement, question.invitation
    if engagement is None or invitation is None or engagement.starts_at <= turn.now:
        return False
    return answer_again(
        turn.session,
        engagement,
        invitation,
        _ANSWERS[understood.intent],
        now=turn.now,
        actor=ACTOR,
    )


def _loaded(message: Message, *names: str) -> bool:
    """Whether these were loaded with it (reading one that was not would be a query)."""
    unloaded = inspect(message).unloaded
    return not any(name in unloaded for name in names)


async def score(
    turn: Turn, expert: Expert, understood: Understood, question: Message | None
) -> str | None:
    if understood.more:
        # "4, busy week": the number is the answer; a person reads the words.
        said = await free_text(turn, expert, understood, question)
        turn.reply.intent = Intent.SCORE.value
        return said
    return turn.render("score", turn.people(expert))


async def free_text(
    turn: Turn, expert: Expert, understood: Understood, question: Message | None
) -> str | None:
    turn.reply.needs_person = True
    turn.reply.intent = Intent.OTHER.value
    with turn.reading():  # tasks and their other replies, never this one
        found = await turn.session.execute(
            _FREE_TEXT,
            {
                "expert": expert.id,
                "kind": TaskKind.READ_REPLY,
                "reply": turn.reply.id,
                "since": turn.now - timedelta(days=1),
            },
        )
    open_task_id, answered_today = found.one()
    await _attach(turn, expert, open_task_id)
    if not turn.rules.answer_free_text or answered_today:
        return None
    # Whoever holds the phone does not learn the link worker's name unless it is safe.
    return turn.render("free_text", {**turn.people(expert), "details": turn.details(expert)})


async def attach_to_open_task(turn: Turn, expert: Expert, kind: TaskKind) -> None:
    """Several texts in a row share one open task rather than making a pile."""
    with turn.reading():  # tasks only
        task_id = await turn.session.scalar(_OPEN_TASK, {"expert": expert.id, "kind": kind})
        if task_id is None and kind is TaskKind.URGENT_REPLY:
            given = {"expert": expert.id, "kind": TaskKind.READ_REPLY}
            task_id = await turn.session.scalar(_OPEN_TASK, given)
    await _attach(turn, expert, task_id)


async def _attach(turn: Turn, expert: Expert, open_task_id: int | None) -> None:
    """The reply joins the open task, or a new one for reading it."""
    if open_task_id is not None:
        turn.reply.task_id = open_task_id
        return
    await turn.task_for_reply(
        TaskKind.READ_REPLY,
        "Read a reply: the machine does not answer free text",
        f"{expert.preferred_name} wrote by {in_sentence(turn.reply.channel)}. "
        "See the Replies page.",
        assignee=turn.assignee(expert),
        expert=expert,
    )


# Built once: a reply pays for running these, not for building them.
_OPEN_TASK = (
    select(Task.id)
    .where(
        Task.expert_id == bindparam("expert"),
        Task.kind == bindparam("kind"),
        Task.status == TaskStatus.OPEN,
    )
    .order_by(Task.id.desc())
    .limit(1)
)
# Free text asks both at once: the open task to join, and whether a free text of theirs
# was already answered today (once a day is enough).
_FREE_TEXT = select(
    _OPEN_TASK.scalar_subquery(),
    exists().where(
        Reply.expert_id == bindparam("expert"),
        Reply.id != bindparam("reply"),
        Reply.intent == Intent.OTHER.value,
        Reply.auto_answer.is_not(None),
        Reply.received_at > bindparam("since"),
    ),
)

"""Listening: every message from outside is stored, understood and, where it matters,
put in front of a person.

The machine's own part is small on purpose (R-2.8): keywords (STOP, START, PAUSE, HELP,
CALL), answers to the question we last asked, and the crisis routing. Anything else is
kept for the link worker, with at most one line back saying they will read it.

A worrying reply (distress words, or a low check-in score) opens an urgent task, queues an
alert to the link worker (or their cover while they are away) and sends the support lines
that are open now, once; then the machine stays quiet towards that person until someone
has looked (``Expert.held_since``).

Everything here runs in the caller's transaction. Answers are returned, not sent, so a
duplicate delivery that loses the race on the unique provider reference rolls back
without anyone hearing from us twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload

from bot.services.contact_details import normalise_phone
from bot.services.engagements.lifecycle import EngagementError, record_answer
from bot.services.experts.profile import ExpertError, is_paused, pause_expert, resume_expert
from bot.services.experts.telegram_links import LinkOutcome, redeem
from scheduling.clock import local_today
from scheduling.people.reply_escalation import AckLimits, ack_deadline, escalation_targets
from scheduling.people.staff_alerts import queue_alert
from scheduling.people.tasks import open_task
from scheduling.planning.planner import load_engagement
from scheduling.rules.cover import responsible_staff
from scheduling.rules.distress import DistressWords
from scheduling.rules.intents import Intent, Understood, understand
from scheduling.rules.plan import PlanOffsets
from scheduling.rules.questions import asked_by
from scheduling.rules.support_lines import SupportLine, open_now
from scheduling.sending.outbox import latest_question
from scheduling.text.context import signature
from scheduling.text.rendering import Renderer
from store import audit
from store.crypto import Cipher
from store.enums import (
    Channel,
    EngagementStatus,
    InvitationAnswer,
    TaskKind,
    TaskStatus,
)
from store.models import ContactPoint, Expert, Message, Reply, Staff, Task

log = logging.getLogger(__name__)

ACTOR = "expert (by reply)"
MAX_BODY_CHARS = 4000
# Provider keywords Twilio already acted on and answered (Advanced Opt-Out).
_PROVIDER_KEYWORDS = {"STOP": Intent.STOP, "START": Intent.START, "HELP": Intent.HELP}
_ANSWERS = {
    Intent.YES: InvitationAnswer.YES,
    Intent.NO: InvitationAnswer.NO,
    Intent.MAYBE: InvitationAnswer.MAYBE,
}
STOP_REASON = "replied STOP"


@dataclass(frozen=True)
class Inbound:
    """One message from outside, as a webhook received it."""

    channel: Channel
    provider_ref: str  # "twilio:SM…" or "telegram:<update id>": the same one twice is a repeat
    sender: str  # the phone number or chat id it came from
    text: str
    received_at: datetime
    answers_message_id: int | None = None  # a Telegram button names the message it answers
    provider_keyword: str | None = None  # Twilio handled STOP/START/HELP itself and replied
    link_code: str | None = None  # Telegram "/start <code>": linking a chat


@dataclass(frozen=True)
class Heard:
    duplicate: bool = False
    reply_id: int | None = None
    answer: str | None = None  # what to say back now, on the same channel, if anything


@dataclass(frozen=True)
class Listening:
    """What the listening rules need, built once at start-up."""

    cipher: Cipher
    renderer: Renderer
    distress: DistressWords
    support_lines: tuple[SupportLine, ...]
    offsets: PlanOffsets
    ack: AckLimits
    answer_free_text: bool = True


def sender_key(channel: Channel, sender: str) -> str:
    """The form contact points are stored in, so the keyed hash matches."""
    if channel is Channel.SMS:
        try:
            return normalise_phone(sender)
        except ValueError:
            return sender.strip()
    return sender.strip()


async def receive(session: AsyncSession, inbound: Inbound, rules: Listening) -> Heard:
    """Store, understand and act on one inbound message; a repeat does nothing."""
    if await session.scalar(select(Reply.id).where(Reply.provider_ref == inbound.provider_ref)):
        return Heard(duplicate=True)
    key = sender_key(inbound.channel, inbound.sender)
    reply = Reply(
        channel=inbound.channel,
        provider_ref=inbound.provider_ref,
        sender=key,
        sender_hash=rules.cipher.blind_index(key),
        # A link code is a key to someone's chat: never kept.
        body="/start" if inbound.link_code is not None else inbound.text[:MAX_BODY_CHARS],
        received_at=inbound.received_at,
    )
    session.add(reply)
    await session.flush()  # a concurrent repeat fails here, before anything else happens
    turn = _Turn(session, rules, inbound, reply)
    if inbound.link_code is not None:
        await turn.link(inbound.link_code)
    else:
        experts = await _match(session, inbound.channel, reply.sender_hash or "")
        if len(experts) == 1:
            await turn.from_expert(experts[0])
        else:
            await turn.from_stranger(len(experts))
    reply.auto_answer = turn.answer
    return Heard(reply_id=reply.id, answer=turn.answer)


RETRIES = 3


async def hear(
    sessions: async_sessionmaker[AsyncSession], inbound: Inbound, rules: Listening
) -> Heard:
    """``receive`` in a transaction of its own, tried again when it collides.

    Two replies about one engagement at the same moment both re-plan it, and the second
    commit can hit the first one's new rows (a unique key, or a deadlock on PostgreSQL).
    That is not a repeat of the same message, so it is handled again from the start; only
    a provider reference already stored means a true repeat. Still failing after a few
    tries raises, so the webhook answers 5xx and the provider delivers it again: a reply
    is never dropped with a 200.
    """
    for attempt in range(1, RETRIES + 1):
        try:
            async with sessions.begin() as session:
                return await receive(session, inbound, rules)
        except (IntegrityError, OperationalError):
            async with sessions() as session:
                stored = await session.scalar(
                    select(Reply.id).where(Reply.provider_ref == inbound.provider_ref)
                )
            if stored is not None:
                return Heard(duplicate=True)
            if attempt == RETRIES:
                raise
            log.info("an inbound message collided with another change; handling it again")
    raise AssertionError("unreachable")


async def _match(session: AsyncSession, channel: Channel, sender_hash: str) -> list[Expert]:
    """Experts whose contact point on this channel has this keyed hash (opted out too:
    START must still reach us)."""
    rows = await session.scalars(
        select(Expert)
        .join(ContactPoint, ContactPoint.expert_id == Expert.id)
        .where(ContactPoint.channel == channel, ContactPoint.lookup_hash == sender_hash)
        .options(
            joinedload(Expert.link_worker).joinedload(Staff.cover),
            selectinload(Expert.contact_points),
        )
    )
    return list(rows.unique())


class _Turn:
    """One inbound message being handled: what it meant, what we do, what we say."""

    def __init__(
        self, session: AsyncSession, rules: Listening, inbound: Inbound, reply: Reply
    ) -> None:
        self.session, self.rules, self.inbound, self.reply = session, rules, inbound, reply
        self.now = inbound.received_at
        self.answer: str | None = None

    # --- strangers and linking -------------------------------------------------------

    async def from_stranger(self, matches: int) -> None:
        """Nothing about the service or its people is revealed; an administrator looks."""
        reply = self.reply
        reply.intent = "stranger" if matches == 0 else "shared_number"
        reply.needs_person = True
        if self.rules.distress.matches(self.inbound.text):
            reply.urgent = True
            task = await open_task(
                self.session,
                kind=TaskKind.STRANGER,
                title="Urgent: a worrying message from an unknown number or chat",
                details=f"Reply {reply.id}: read it with `linkline replies show {reply.id}`.",
                now=self.now,
                assignee=None,
                urgent=True,
                due_at=self.now + self.rules.ack.urgent,
            )
            reply.task_id = task.id
            await self._alert(
                await escalation_targets(self.session, None, self.now, self.rules.ack.office_tz),
                task,
            )
            self.answer = self._render("stranger_worrying", {**self._lines(), **self._place()})
            return
        if matches > 1 or await self._answered_sender_lately():
            # A number several experts share is for a person to sort out, not
            # to be told it is unknown; a stranger gets one neutral line a day at most.
            return
        self.answer = self._render("stranger", self._place())

    async def link(self, code: str) -> None:
        result = await redeem(
            self.session,
            cipher=self.rules.cipher,
            chat_id=self.reply.sender or "",
            code=code,
            now=self.now,
        )
        if result.outcome is LinkOutcome.LINKED and result.expert is not None:
            expert = await self._load_expert(result.expert.id)
            self.reply.expert_id = expert.id
            self.reply.intent = "linked"
            consented = any(c.channel is Channel.TELEGRAM and c.allowed for c in expert.consents)
            await self._tell_worker(
                expert,
                f"{expert.preferred_name} linked their Telegram chat."
                + (
                    ""
                    if consented
                    else " Nothing goes there until you have talked it through with them and "
                    f"recorded it: `linkline experts consent {expert.ref or expert.id} "
                    "telegram allow --by EMAIL`."
                ),
            )
            self.answer = self._render("linked", self._people(expert))
            return
        self.reply.intent = "link_refused"
        if result.outcome is not LinkOutcome.TOO_MANY_TRIES:
            self.answer = self._render("link_refused", {})

    # --- experts -----------------------------------------------------------------------

    async def from_expert(self, expert: Expert) -> None:
        reply, inbound = self.reply, self.inbound
        reply.expert_id = expert.id
        question = await self._question(expert)
        reply.in_reply_to_id = question.id if question is not None else None
        understood = understand(inbound.text, asked_by(question), self.rules.distress)
        provider_said = _PROVIDER_KEYWORDS.get((inbound.provider_keyword or "").upper())
        if provider_said is not None:
            understood = Understood(provider_said)
        reply.intent = "worrying" if understood.worrying else understood.intent.value
        reply.score = understood.score
        if understood.worrying:
            await self._worrying(expert)
            return
        held = expert.held_since is not None
        speak = not held and provider_said is None
        handler = {
            Intent.STOP: self._stop,
            Intent.START: self._start,
            Intent.PAUSE: self._pause,
            Intent.HELP: self._help,
            Intent.CALL: self._call,
            Intent.YES: self._invitation,
            Intent.NO: self._invitation,
            Intent.MAYBE: self._invitation,
            Intent.SCORE: self._score,
            Intent.PASS: self._pass,
        }.get(understood.intent, self._free_text)
        said = await handler(expert, understood, question)
        if held:
            # Someone is already due to look; this reply waits with the rest.
            reply.needs_person = True
            await self._attach_to_open_task(expert, TaskKind.URGENT_REPLY)
        if speak and said is not None:
            self.answer = said

    async def _worrying(self, expert: Expert) -> None:
        reply = self.reply
        reply.urgent = reply.needs_person = True
        assignee = responsible_staff(expert.link_worker, local_today(self.now, expert.time_zone))
        task = await open_task(
            self.session,
            kind=TaskKind.URGENT_REPLY,
            title="Urgent: a worrying reply. Please look within the hour",
            details=(
                f"{expert.preferred_name} replied by {reply.channel.value}. Read it with "
                f"`linkline replies show {reply.id}`, then get in touch. Messages to them are "
                "on hold until the reply is acknowledged."
            ),
            now=self.now,
            assignee=assignee,
            expert=expert,
            urgent=True,
            due_at=self.now + self.rules.ack.urgent,
        )
        reply.task_id = task.id
        targets = [assignee]
        if assignee.is_away(local_today(self.now, self.rules.ack.office_tz)):
            # Away with no cover at work: the administrators hear at once, not in an hour.
            targets += await escalation_targets(
                self.session, assignee, self.now, self.rules.ack.office_tz
            )
        await self._alert(targets, task)
        if expert.held_since is None:
            expert.held_since = self.now
            audit.record(
                self.session,
                actor="linkline",
                action="expert.held",
                entity="expert",
                entity_id=expert.id,
                at=self.now,
                reply_id=reply.id,
            )
            self.answer = self._render("worrying", {**self._people(expert), **self._lines()})
        # Already on hold: one reply with the lines is enough; a person is on the way.

    async def _stop(self, expert: Expert, *_: Any) -> str | None:
        point = self._contact_point(expert)
        if point is not None and point.opted_out_at is None:
            point.opted_out_at, point.opt_out_reason = self.now, STOP_REASON
        await self._tell_worker(
            expert,
            f"{expert.preferred_name} replied STOP on {self.reply.channel.value}: nothing more "
            "goes there. Get in touch another way only if they agreed that.",
        )
        return self._render("stop", self._people(expert))

    async def _start(self, expert: Expert, *_: Any) -> str | None:
        point = self._contact_point(expert)
        changes = []
        if point is not None and point.opted_out_at is not None:
            if (point.opt_out_reason or "") == STOP_REASON:
                point.opted_out_at, point.opt_out_reason = None, None
                changes.append(f"messages on {self.reply.channel.value} are back on")
            else:
                changes.append(
                    f"{self.reply.channel.value} stays off ({point.opt_out_reason}): check with "
                    "them before turning it back on"
                )
        if is_paused(expert, self.now):
            await resume_expert(self.session, expert, now=self.now, actor=ACTOR)
            changes.append("their pause has ended")
        await self._tell_worker(
            expert,
            f"{expert.preferred_name} replied START: {'; '.join(changes) or 'nothing was off'}.",
        )
        return self._render("start", self._people(expert))

    async def _pause(self, expert: Expert, understood: Understood, _: Message | None) -> str | None:
        until = None
        if understood.pause_days is not None:
            until = local_today(self.now, expert.time_zone) + timedelta(days=understood.pause_days)
        try:
            await pause_expert(self.session, expert, until=until, now=self.now, actor=ACTOR)
        except ExpertError:
            return await self._free_text(expert, understood, None)
        when = f" until {until:%A %-d %B}" if until else " until they get in touch"
        await self._tell_worker(expert, f"{expert.preferred_name} replied PAUSE: paused{when}.")
        return self._render(
            "pause", {**self._people(expert), "until": f"{until:%A %-d %B}" if until else ""}
        )

    async def _help(self, expert: Expert, *_: Any) -> str | None:
        return self._render("help", self._people(expert))

    async def _call(self, expert: Expert, *_: Any) -> str | None:
        self.reply.needs_person = True
        assignee = self._assignee(expert)
        task = await open_task(
            self.session,
            kind=TaskKind.CALL_BACK,
            title="Call back: they asked for a call",
            details=f"{expert.preferred_name} replied CALL. Ring them in their safe hours.",
            now=self.now,
            assignee=assignee,
            expert=expert,
            due_at=ack_deadline(self.now, False, self.rules.ack),
        )
        self.reply.task_id = task.id
        return self._render("call", self._people(expert))

    async def _invitation(
        self, expert: Expert, understood: Understood, question: Message | None
    ) -> str | None:
        engagement = (
            # Everything re-planning reads (every invitee, their link worker) comes loaded.
            await load_engagement(self.session, question.engagement_id)
            if question is not None and question.engagement_id is not None
            else None
        )
        if engagement is None or engagement.status is EngagementStatus.CANCELLED:
            return await self._free_text(expert, understood, question)
        if engagement.starts_at <= self.now:
            return await self._free_text(expert, understood, question)
        try:
            await record_answer(
                self.session,
                engagement,
                expert.id,
                _ANSWERS[understood.intent],
                self.rules.offsets,
                now=self.now,
                actor=ACTOR,
            )
        except EngagementError:
            return await self._free_text(expert, understood, question)
        return self._render(understood.intent.value, self._people(expert))

    async def _score(
        self, expert: Expert, understood: Understood, question: Message | None
    ) -> str | None:
        if understood.more:
            # "4, busy week": the number is the answer; a person reads the words.
            said = await self._free_text(expert, understood, question)
            self.reply.intent = Intent.SCORE.value
            return said
        return self._render("score", self._people(expert))

    async def _pass(self, *_: Any) -> str | None:
        return None  # "PASS" triggers nothing, and is never chased

    async def _free_text(self, expert: Expert, *_: Any) -> str | None:
        self.reply.needs_person = True
        self.reply.intent = Intent.OTHER.value
        await self._attach_to_open_task(expert, TaskKind.READ_REPLY)
        if not self.rules.answer_free_text or await self._answered_free_text_today(expert):
            return None
        return self._render("free_text", self._people(expert))

    # --- helpers -----------------------------------------------------------------------

    async def _question(self, expert: Expert) -> Message | None:
        wanted = self.inbound.answers_message_id
        if wanted is None:
            return await latest_question(self.session, expert.id, self.now)
        message = await self.session.get(Message, wanted)
        # A button only answers a message that was sent to this same person.
        return message if message is not None and message.expert_id == expert.id else None

    async def _attach_to_open_task(self, expert: Expert, kind: TaskKind) -> None:
        """Several texts in a row share one open task rather than making a pile."""
        task = await self.session.scalar(
            select(Task)
            .where(Task.expert_id == expert.id, Task.kind == kind, Task.status == TaskStatus.OPEN)
            .order_by(Task.id.desc())
            .limit(1)
        )
        if task is None and kind is TaskKind.URGENT_REPLY:
            task = await self.session.scalar(
                select(Task)
                .where(
                    Task.expert_id == expert.id,
                    Task.kind == TaskKind.READ_REPLY,
                    Task.status == TaskStatus.OPEN,
                )
                .limit(1)
            )
        if task is None:
            task = await open_task(
                self.session,
                kind=TaskKind.READ_REPLY,
                title="Read a reply: the machine does not answer free text",
                details=(
                    f"{expert.preferred_name} wrote by {self.reply.channel.value}. "
                    "See `linkline replies`."
                ),
                now=self.now,
                assignee=self._assignee(expert),
                expert=expert,
                due_at=ack_deadline(self.now, False, self.rules.ack),
            )
        self.reply.task_id = task.id

    async def _tell_worker(self, expert: Expert, details: str) -> None:
        """STOP, START and PAUSE are honoured at once; the link worker hears of it."""
        task = await open_task(
            self.session,
            kind=TaskKind.CONTACT_CHANGED,
            title="For your information: they changed how we contact them",
            details=details,
            now=self.now,
            assignee=self._assignee(expert),
            expert=expert,
            due_at=ack_deadline(self.now, False, self.rules.ack),
        )
        self.reply.task_id = task.id

    async def _alert(self, targets: list[Staff], task: Task) -> None:
        for staff in dict.fromkeys(targets):
            await queue_alert(
                self.session,
                staff,
                reason="urgent_reply",
                task=task,
                dedupe_key=f"urgent:{self.reply.id}:{staff.id}",
                now=self.now,
            )
        if not targets:
            log.error("reply %s is urgent and no member of staff can be alerted", self.reply.id)

    async def _answered_sender_lately(self) -> bool:
        count = await self.session.scalar(
            select(func.count(Reply.id)).where(
                Reply.sender_hash == self.reply.sender_hash,
                Reply.id != self.reply.id,
                Reply.auto_answer.is_not(None),
                Reply.received_at > self.now - timedelta(days=1),
            )
        )
        return bool(count)

    async def _answered_free_text_today(self, expert: Expert) -> bool:
        count = await self.session.scalar(
            select(func.count(Reply.id)).where(
                Reply.expert_id == expert.id,
                Reply.id != self.reply.id,
                Reply.intent == Intent.OTHER.value,
                Reply.auto_answer.is_not(None),
                Reply.received_at > self.now - timedelta(days=1),
            )
        )
        return bool(count)

    async def _load_expert(self, expert_id: int) -> Expert:
        expert = await self.session.scalar(
            select(Expert)
            .where(Expert.id == expert_id)
            .options(
                joinedload(Expert.link_worker).joinedload(Staff.cover),
                selectinload(Expert.consents),
            )
            .execution_options(populate_existing=True)
        )
        assert expert is not None
        return expert

    def _contact_point(self, expert: Expert) -> ContactPoint | None:
        return next(
            (
                p
                for p in expert.contact_points
                if p.channel is self.reply.channel and p.lookup_hash == self.reply.sender_hash
            ),
            None,
        )

    def _assignee(self, expert: Expert) -> Staff:
        return responsible_staff(expert.link_worker, local_today(self.now, expert.time_zone))

    def _people(self, expert: Expert) -> dict[str, str]:
        return {"name": expert.preferred_name, "worker": signature(expert, self.now)}

    def _place(self) -> dict[str, str]:
        """Where they wrote to us, in their words: a text number, or a chat."""
        return {"place": "number" if self.reply.channel is Channel.SMS else "chat"}

    def _lines(self) -> dict[str, Any]:
        lines = open_now(self.rules.support_lines, self.now)
        danger = next((line for line in lines if line.for_immediate_danger), None)
        return {"lines": [line for line in lines if line is not danger], "danger": danger}

    def _render(self, name: str, context: dict[str, Any]) -> str:
        return self.rules.renderer.render_named(f"replies/{name}.txt", context).body

"""Staff writing to an expert through Linkline: a preview first, then the message.

Words a person types meet the same rules as everything else Linkline says: consent for the
channel, STOP, withdrawal, a pause they asked for, the hold after a worrying reply, their
safe times and the discreet word list. Before anything is saved, staff see exactly what
will happen: which channel and why, what a lock screen would show, how many texts it
costs, any word that stops it, and when it will really go. Confirming puts one message in
the outbox (Purpose.WRITTEN, pinned to the channel previewed); the dispatcher and the gate
send it like any other, so it is recorded, retried and shown in the delivery log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.profile import is_paused
from bot.services.inbox.replies import acknowledge
from bot.services.inbox.tasks import close_task
from channels.base import MessageChannel
from channels.sms_text import plain_text, segments
from scheduling.rules.characters import typeable
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.discreet_words import BlockedWords
from scheduling.rules.gate import Kind, Outbound, check, details_safe
from scheduling.rules.router import choose_route, letters_held
from scheduling.rules.windows import WindowError, next_allowed
from scheduling.rules.wording import spoken_datetime, spoken_day
from scheduling.text.context import signature
from scheduling.text.rendering import Renderer
from scheduling.text.words import in_sentence, label
from store import audit
from store.enums import Channel, MessageStatus, Purpose, TaskKind, TaskStatus
from store.errors import Refused
from store.models import ChannelConsent, ContactPoint, Expert, Message, Reply, Staff, Task

MAX_CHARS = 2000  # a few paragraphs; longer belongs in a call or a meeting
WRITABLE = (Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER)
LOCK_SCREEN_CHARS = 100  # about what a phone shows before "…"


class WriteRefused(Refused):
    """The words or the channel can't be used; the message says what to change."""


@dataclass(frozen=True)
class Preview:
    """What will happen if staff confirm, in sentences for people."""

    expert: Expert
    words: str
    channel: Channel
    why_channel: str
    subject: str | None
    body: str
    lock_screen: str
    goes_at: datetime
    goes_when: str
    sms_segments: int | None = None
    blocked_word: str | None = None
    # Sentences that stop it: confirming is refused with the first of them.
    problems: list[str] = field(default_factory=list)

    @property
    def can_send(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Writer:
    """What writing needs from the app: its channels, templates and discreet word list."""

    channels: Mapping[Channel, MessageChannel]
    renderer: Renderer
    blocked: BlockedWords
    time_zone: str  # the organisation's: staff read times in it


def read_channel(text: str) -> Channel | None:
    """A channel as typed or chosen ("" means let Linkline choose)."""
    if not text.strip():
        return None
    try:
        return Channel.parse(text)
    except ValueError:
        raise WriteRefused(
            f"{text.strip()!r} is not a way we write: choose a text message, Telegram, "
            "email or a letter",
            field="channel",
        ) from None


def preview(
    writer: Writer,
    expert: Expert,
    words: str,
    now: datetime,
    *,
    channel: Channel | None = None,
    answering: Reply | None = None,
) -> Preview:
    """Everything staff should see before the words go; refuses words that can't be used.

    ``expert`` is loaded with their consents, contact points and windows (load_profile)."""
    words = _checked_words(words)
    channel, why = _channel_for(writer, expert, channel, answering, now)
    limit = writer.channels[channel].limits.max_body_chars
    context = {
        "name": expert.preferred_name,
        "worker": signature(expert, now),
        "note": words,
        "details": details_safe(expert, channel),
        "variant": 0,
    }
    rendered = writer.renderer.render(Purpose.WRITTEN, channel, context)
    if limit is not None and len(rendered.body) > limit:
        raise WriteRefused(
            f"that is {len(rendered.body)} characters, and {in_sentence(channel)} can carry "
            f"at most {limit}: shorten it, or choose email or a letter",
            field="text",
        )
    goes_at, goes_when, problems = _when(writer, expert, channel, now)
    out = Outbound(
        Kind.STAFF_TEXT,
        channel,
        f"{rendered.subject or ''}\n{rendered.body}",
        purpose=Purpose.WRITTEN,
    )
    verdict = check(expert, out, writer.blocked, goes_at)
    if not verdict.allowed and not problems:
        fix = (
            " Change those words, or choose a way they agreed is safe for details."
            if verdict.word
            else ""
        )
        problems.append(f"It can't be sent {_by(channel)}: {verdict.reason}.{fix}")
    if is_paused(expert, now):
        problems.insert(0, "They asked to pause contact, so nothing can be sent until it ends.")
    sms = segments(plain_text(rendered.body))[1] if channel is Channel.SMS else None
    return Preview(
        expert=expert,
        words=words,
        channel=channel,
        why_channel=why,
        subject=rendered.subject,
        body=rendered.body,
        lock_screen=_lock_screen(channel, rendered.subject, rendered.body, signature(expert, now)),
        goes_at=goes_at,
        goes_when=goes_when,
        sms_segments=sms,
        blocked_word=verdict.word,
        problems=problems,
    )


async def send_written(
    session: AsyncSession,
    writer: Writer,
    expert: Expert,
    words: str,
    by: Staff,
    now: datetime,
    *,
    token: str,
    channel: Channel | None = None,
    answering: Reply | None = None,
    actor: str,
) -> tuple[Message, Preview]:
    """The confirmed message, in the outbox for the dispatcher and the gate.

    ``token`` comes from the preview: confirming twice (a double click, a resent form)
    finds the same message instead of sending the words twice."""
    if not token.isalnum() or not 8 <= len(token) <= 40:
        raise WriteRefused("this form is out of date: preview the message again", field="text")
    shown = preview(writer, expert, words, now, channel=channel, answering=answering)
    key = f"written:{expert.id}:{token}"
    existing = await session.scalar(select(Message).where(Message.idempotency_key == key))
    if existing is not None:
        return existing, shown
    if not shown.can_send:
        raise WriteRefused(shown.problems[0], field="text")
    message = Message(
        expert_id=expert.id,
        purpose=Purpose.WRITTEN,
        idempotency_key=key,
        due_at=now,
        next_attempt_at=now,
        status=MessageStatus.PENDING,
        channel=shown.channel,
        personal_note=shown.words,
        written_by_id=by.id,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    await session.flush()
    # Who wrote to whom and how; never the words (the audit log is read more widely).
    audit.record(
        session,
        actor=actor,
        action="message.written",
        entity="expert",
        entity_id=expert.id,
        at=now,
        message_id=message.id,
        channel=shown.channel.value,
        reply_id=answering.id if answering is not None else None,
    )
    if answering is not None and not answering.urgent:
        # Answering it is reading it: nobody is alerted that it waits. A worrying reply is
        # marked read on its own page, where lifting the hold is said plainly.
        await acknowledge(session, answering, by, now=now)
        await _close_reading_task(session, answering, by, shown.channel, now, actor)
    return message, shown


async def _close_reading_task(
    session: AsyncSession, reply: Reply, by: Staff, channel: Channel, now: datetime, actor: str
) -> None:
    """The "a reply to read" task it opened is done once every reply on it is answered or
    read, so nobody picks it up to answer it a second time."""
    if reply.task_id is None:
        return
    task = await session.get(Task, reply.task_id)
    if task is None or task.kind is not TaskKind.READ_REPLY or task.status is not TaskStatus.OPEN:
        return
    waiting = await session.scalar(
        select(Reply.id).where(
            Reply.task_id == task.id, Reply.id != reply.id, Reply.acknowledged_at.is_(None)
        )
    )
    if waiting is None:
        outcome = f"{by.name} answered by {in_sentence(channel)}."
        await close_task(session, task.id, outcome, now, by, actor=actor)


def _checked_words(words: str) -> str:
    words = words.replace("\r\n", "\n").strip()
    if not words or words == "None":
        raise WriteRefused("write the message first: it is empty", field="text")
    if not typeable(words, multi_line=True):
        raise WriteRefused(
            "the message has a character nobody can type (a control character): retype it",
            field="text",
        )
    if len(words) > MAX_CHARS:
        raise WriteRefused(
            f"that is {len(words)} characters; a message can be at most {MAX_CHARS}: shorten "
            "it, or phone them",
            field="text",
        )
    return words


def _channel_for(
    writer: Writer,
    expert: Expert,
    chosen: Channel | None,
    answering: Reply | None,
    now: datetime,
) -> tuple[Channel, str]:
    """The channel and why, in words; refused when nothing agreed can carry it."""
    if chosen is not None:
        _usable(writer, expert, chosen)
        return chosen, f"You chose {in_sentence(chosen)}."
    if answering is not None and _why_not(writer, expert, answering.channel) is None:
        return answering.channel, (
            f"They wrote to us by {in_sentence(answering.channel)}, so the answer goes the "
            "same way."
        )
    not_writable = set(Channel) - set(WRITABLE)
    routing = choose_route(expert, writer.channels, now=now, deadline=None, exclude=not_writable)
    if routing.route is None:
        raise WriteRefused(
            "there is no agreed way to write to them: check their consent and contact "
            "details, or phone them if they agreed to calls",
            field="channel",
        )
    channel = routing.route.channel
    order = [c for c in expert.channel_order() if c in WRITABLE]
    if order and order[0] is channel:
        return channel, f"{label(channel)} is the way they prefer."
    skipped = [
        f"{in_sentence(c)} can't be used ({_why_not(writer, expert, c)})"
        for c in order[: order.index(channel)]
        if _why_not(writer, expert, c)
    ]
    if not skipped:
        return channel, f"{label(channel)} is the first way they agreed to that can be used now."
    return channel, f"{label(channel)} is the next way they agreed to: " + "; ".join(skipped) + "."


def _usable(writer: Writer, expert: Expert, channel: Channel) -> None:
    if channel is Channel.PHONE:
        raise WriteRefused(
            "a phone call is made by a person: call them, then record it on a task",
            field="channel",
        )
    why = _why_not(writer, expert, channel)
    if why is not None:
        raise WriteRefused(f"{in_sentence(channel)} can't be used for them: {why}", field="channel")


def _why_not(writer: Writer, expert: Expert, channel: Channel) -> str | None:
    """Why this person can't be written to this way, in words, or None."""
    consent: ChannelConsent | None = next(
        (c for c in expert.consents if c.channel is channel), None
    )
    point: ContactPoint | None = next(
        (p for p in expert.contact_points if p.channel is channel), None
    )
    if channel not in WRITABLE:
        return "it is not a way to write"
    if consent is None or not consent.allowed:
        return "nobody has confirmed with them that this way is safe"
    if point is None:
        return "we have no contact details for it"
    if point.opted_out_at is not None:
        return "they asked us to stop this way"
    if point.verified_at is None:
        return "their contact details are not checked yet"
    if channel is Channel.LETTER and letters_held(expert):
        return "a new postal address waits for a second person to confirm it"
    if writer.channels.get(channel) is None:
        return "it is not set up here"
    return None


def _when(
    writer: Writer, expert: Expert, channel: Channel, now: datetime
) -> tuple[datetime, str, list[str]]:
    """When it will really go, in words; a problem when their safe times never open."""
    try:
        goes_at = next_allowed(now, contact_rules(expert, channel, now))
    except WindowError:
        goes_at = None
    if goes_at is None:
        return (
            now,
            "It can't go: their safe times need checking.",
            ["Their safe-contact times cannot be used: check them on their page first."],
        )
    if channel is Channel.LETTER:
        arrives = writer.channels[channel].earliest_arrival(goes_at)
        return (
            goes_at,
            (
                "It goes with the next batch of letters, and should arrive by "
                f"{spoken_day(arrives, writer.time_zone)}."
            ),
            [],
        )
    if goes_at <= now:
        return goes_at, "It will go straight away: it is within their safe times now.", []
    return (
        goes_at,
        (
            "It will wait for their safe times and go on "
            f"{spoken_datetime(goes_at, writer.time_zone)}."
        ),
        [],
    )


def _lock_screen(channel: Channel, subject: str | None, body: str, sender: str) -> str:
    """What someone holding their phone, or their post, could read without opening it."""
    if channel is Channel.LETTER:
        return "A plain envelope with their name and address: nothing shows who it is from."
    first = " ".join(body.split())
    if len(first) > LOCK_SCREEN_CHARS:
        first = first[:LOCK_SCREEN_CHARS].rstrip() + "…"
    if channel is Channel.EMAIL:
        return f"From {sender}: {subject or 'no subject'} — {first}"
    return first


def _by(channel: Channel) -> str:
    return f"by {in_sentence(channel)}"

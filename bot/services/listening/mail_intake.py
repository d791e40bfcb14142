"""An email reply, heard like a text: the same store, understanding and urgent path
(``hear``), with what only email has around it.

Who wrote: the address's keyed hash, as for a phone number; or, when the mail names a
message we sent (the token in the address it was sent to, In-Reply-To, References), the
expert that message went to, whichever address they wrote from. A repeat (the same
Message-ID, or the same bytes when it has none) is recognised by the reply's unique
provider reference, so a re-read mailbox never makes two replies.

What comes back goes to the expert's own recorded address, never to whatever address
wrote; a stranger hears back only when the message was worrying (the support lines), so
spam is never answered; an out-of-office never is, so two machines cannot write to each
other for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot.services.contact_details import normalise_email
from bot.services.listening.hear import hear
from bot.services.listening.inbound import Heard, Inbound, Listening
from channels.mail_read import IncomingMail, token_of
from scheduling.rules.questions import QUESTION_PURPOSES
from scheduling.text.context import signature
from store.enums import AccessNeed, Channel
from store.models import DeliveryAttempt, Expert, Message, Reply, Staff

ANSWER_SUBJECT = "Re: your message"


@dataclass(frozen=True)
class Answer:
    """What to send back by email, already past the gate's check on its words."""

    reply_id: int
    to: str
    body: str
    recipient_name: str
    sender_name: str
    reply_token: str | None  # the token their mail came back with, so the next one does too
    large_print: bool = False


@dataclass(frozen=True)
class MailHeard:
    heard: Heard
    answer: Answer | None = None


async def hear_mail(
    sessions: async_sessionmaker[AsyncSession],
    mail: IncomingMail,
    rules: Listening,
    *,
    now: datetime,
    attachment_line: str = "",
) -> MailHeard:
    """Store and understand one email; what to answer, if anything."""
    async with sessions() as session:
        named = await _named_message(session, mail)
    inbound = Inbound(
        channel=Channel.EMAIL,
        provider_ref="email:" + rules.cipher.blind_index(mail.ref),
        sender=_address(mail.sender),
        text=mail.text,
        received_at=now,
        # A reply to an email that asked nothing is read against the latest question.
        answers_message_id=named.id if named is not None and named.asked else None,
        expert_id=named.expert_id if named is not None else None,
        note=_note(mail),
        unclear=mail.problem is not None,
        answerable=not mail.automatic,
    )
    heard = await hear(sessions, inbound, rules)
    if heard.duplicate or heard.reply_id is None or not heard.answer:
        return MailHeard(heard)
    async with sessions() as session:
        reply = await session.scalar(
            select(Reply)
            .where(Reply.id == heard.reply_id)
            .options(
                joinedload(Reply.expert).joinedload(Expert.link_worker).joinedload(Staff.cover),
                joinedload(Reply.expert).selectinload(Expert.contact_points),
            )
        )
        if reply is None:  # erased meanwhile: nobody to answer
            return MailHeard(heard)
        to = _answer_address(reply, inbound.sender)
        if to is None:
            return MailHeard(heard)
        expert = reply.expert
        needs = set(expert.access_needs or []) if expert is not None else set()
        body = heard.answer + (
            f"\n\n{attachment_line}" if mail.attachments and attachment_line else ""
        )
        return MailHeard(
            heard,
            Answer(
                reply_id=reply.id,
                to=to,
                body=body,
                recipient_name=expert.preferred_name if expert else "",
                sender_name=signature(expert, now) if expert else "",
                reply_token=token_of(named.provider_id) if named is not None else None,
                large_print=AccessNeed.LARGE_PRINT.value in needs,
            ),
        )


@dataclass(frozen=True)
class _Named:
    """An email of ours a reply names: to whom it went, and its Message-ID."""

    id: int
    expert_id: int
    provider_id: str
    asked: bool  # it asked something, so the reply is read as its answer


async def _named_message(session: AsyncSession, mail: IncomingMail) -> _Named | None:
    """The email of ours this one answers, the likeliest first; None when it names none.
    Every attempt's Message-ID counts, not only the last one recorded on the message."""
    ours = mail.ours()
    if not ours:
        return None
    rows = await session.execute(
        select(Message.provider_id, Message.id, Message.expert_id, Message.purpose)
        .where(Message.channel == Channel.EMAIL, Message.provider_id.in_(ours))
        .union(
            select(DeliveryAttempt.provider_id, Message.id, Message.expert_id, Message.purpose)
            .join(Message, DeliveryAttempt.message_id == Message.id)
            .where(DeliveryAttempt.channel == Channel.EMAIL, DeliveryAttempt.provider_id.in_(ours))
        )
    )
    found = {
        str(row[0]): _Named(row[1], row[2], str(row[0]), row[3] in QUESTION_PURPOSES)
        for row in rows
    }
    return next((found[i] for i in ours if i in found), None)


def _address(sender: str | None) -> str:
    """The form email contact points are stored in, so the keyed hash matches."""
    if not sender:
        return ""
    try:
        return normalise_email(sender)
    except ValueError:
        return sender.strip().lower()


def _note(mail: IncomingMail) -> str | None:
    """For staff, beside what they wrote: files that were not kept, and what could not be
    read (the original stays in the mailbox)."""
    parts = []
    if mail.attachments:
        files = "a file" if mail.attachments == 1 else f"{mail.attachments} files"
        parts.append(f"They attached {files}, which Linkline does not keep")
    if mail.problem:
        parts.append(
            f"This email could not be read properly ({mail.problem}); "
            "the original is still in the replies mailbox"
        )
    if mail.automatic:
        parts.append("An automatic email (such as an out-of-office): nothing was sent back")
    return ". ".join(parts) + "." if parts else None


def _answer_address(reply: Reply, sender: str) -> str | None:
    """An expert's recorded address; a stranger's own only for the support lines."""
    if reply.expert is None:
        return sender if reply.urgent and "@" in sender else None
    point = next((p for p in reply.expert.contact_points if p.channel is Channel.EMAIL), None)
    return point.value if point is not None else None

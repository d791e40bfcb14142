"""Email over SMTP (aiosmtplib), with an optional calendar invitation or cancellation.

Each email is a personal note from a link worker to one person. So: exactly one
recipient, the worker's first name as the sender, and no threading headers. Quoting or
threading earlier messages could show someone's history to whoever opens the mailbox.
``Reply-To`` names the replies mailbox with a token, which is not history: it only lets
the reply be heard. The Message-ID is derived from the idempotency key (keyed, so it
cannot be guessed). If a send is retried after a timeout that actually delivered, the
duplicate can then be recognised. The bytes are written by mail_compose.py and handed
over by mail_smtp.py, over a few connections kept open between messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, getaddresses

from channels.base import (
    CalendarEvent,
    ChannelLimits,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.calendar_invite import build_ics
from channels.letter import attachment_pdf
from channels.mail_compose import Attachment, Invitation, compose, header
from channels.mail_read import token_of
from channels.mail_smtp import (
    AUTH_HINT,
    OPT_OUT_REASON,
    STARTTLS_HINT,
    EmailConfig,
    SmtpPool,
    connect_error,
    envelope_error,
    smtp_error,
)
from store.enums import Channel

__all__ = [
    "AUTH_HINT",
    "OPT_OUT_REASON",
    "STARTTLS_HINT",
    "ComposedEmail",
    "EmailChannel",
    "EmailConfig",
    "connect_error",
    "dry_run_formatter",
    "envelope_error",
    "plain_to_html",
    "plus_address",
    "single_address",
    "smtp_error",
]

log = logging.getLogger(__name__)

_LINE_BREAKS = re.compile(r"[\r\n]+")


def _now() -> datetime:
    return datetime.now(UTC)


class EmailChannel:
    """The live email channel. SMTP offers no way to ask "did this arrive?", so a lookup
    is never conclusive."""

    kind = Channel.EMAIL
    live = True
    lookup_is_conclusive = False
    limits = ChannelLimits(has_subject=True)

    def __init__(self, config: EmailConfig, *, clock: Callable[[], datetime] = _now) -> None:
        self.config = config
        self._clock = clock
        self._connections = SmtpPool(config)

    def message_id(self, idempotency_key: str) -> str:
        """The same key always gives the same id, so a repeat send is recognisable."""
        key = idempotency_key.encode()
        if self.config.id_key:
            digest = hmac.new(self.config.id_key, key, hashlib.sha256).hexdigest()[:32]
        else:
            digest = hashlib.sha256(key).hexdigest()[:32]
        return f"<{digest}@{self.config.message_id_domain}>"

    async def send(self, message: OutgoingMessage) -> Receipt:
        now = self._clock()
        if message.deliver_before is not None and now >= message.deliver_before:
            raise TransientError("outside the person's safe hours: not sent", code="late")
        recipient = single_address(message.to)
        pdf = None
        if message.attach_letter:
            try:
                pdf = await asyncio.to_thread(attachment_pdf, message, now.date())
            except Exception as exc:  # a rendering bug is ours: keep the message, retry
                raise TransientError(f"the PDF could not be made: {type(exc).__name__}") from exc
        email = self.compose(message, recipient, now, pdf=pdf)
        await self._connections.hand_over(email.raw, recipient, utf8=email.utf8)
        log.info("email accepted by the mail server: %s", email.message_id)
        return Receipt(provider_id=email.message_id, status="accepted")

    def build(
        self, message: OutgoingMessage, recipient: str, now: datetime, *, pdf: bytes | None = None
    ) -> EmailMessage:
        """The complete email, read back from the very bytes ``send`` hands over. It is
        public so tests and previews can see exactly what would be sent."""
        raw = self.compose(message, recipient, now, pdf=pdf).raw
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def compose(
        self, message: OutgoingMessage, recipient: str, now: datetime, *, pdf: bytes | None = None
    ) -> ComposedEmail:
        """The email as it goes on the wire."""
        if not (message.subject or "").strip():
            raise PermanentError("no subject")
        config = self.config
        subject = _one_line(message.subject or "")
        message_id = self.message_id(message.idempotency_key)
        addresses = [config.from_address, recipient]
        headers = [
            header("From", formataddr((_one_line(message.sender_name), config.from_address))),
            f"To: {recipient}\r\n",  # one checked address: written as it is
            header("Subject", subject),
            header("Date", format_datetime(now.astimezone(UTC))),
            header("Message-ID", message_id),
        ]
        if config.reply_to:
            token = message.metadata.get("reply_token") or token_of(message_id)
            reply_to = plus_address(config.reply_to, token)
            addresses.append(reply_to)
            headers.append(f"Reply-To: {reply_to}\r\n")
        html_body = message.html_body or plain_to_html(message.body, subject, message.large_print)
        invitation, attachments = None, []
        if message.calendar is not None:
            invitation = self._invitation(message.calendar, recipient, message.recipient_name, now)
            attachments.append(Attachment(invitation.ics, "application/ics", "invite.ics"))
        if pdf is not None:  # a neutral file name: an attachment list is seen at a glance
            attachments.append(Attachment(pdf, "application/pdf", "letter.pdf"))
        raw = compose(headers, message.body, html_body, invitation, attachments)
        return ComposedEmail(raw, message_id, utf8=not all(a.isascii() for a in addresses))

    def _invitation(
        self, event: CalendarEvent, recipient: str, name: str, now: datetime
    ) -> Invitation:
        """The invitation goes as a text/calendar alternative, which Outlook and Gmail show
        as an invitation, and as an invite.ics attachment for other clients. The MIME method
        must equal METHOD inside the file. Bytes, base64 encoded: the CRLF line ends RFC
        5545 asks for arrive as they were written."""
        event = _with_organizer(event, self.config.from_address)
        return Invitation(build_ics(event, recipient, name, now), event.method)

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """Email arrives within minutes; the dispatcher needs no margin."""
        return send_at

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """SMTP cannot be asked whether a message was taken, so there is nothing to find."""
        return None

    async def aclose(self) -> None:
        """Says goodbye on the connections kept open between sends."""
        await self._connections.aclose()


@dataclass(frozen=True)
class ComposedEmail:
    """What goes on the wire: the bytes, their Message-ID, and whether an address needs
    SMTPUTF8 (a non-ASCII address cannot be encoded any other way)."""

    raw: bytes
    message_id: str
    utf8: bool


def single_address(to: str) -> str:
    """The one address to send to. A list of addresses is refused before anything is sent,
    because a note meant for one person must never go to two."""
    if not to.strip():
        raise PermanentError("no address to send to")
    if any(c in to for c in ",;\r\n"):
        raise PermanentError("more than one address, or a malformed one: not sent")
    parsed = getaddresses([to])
    if len(parsed) != 1:
        raise PermanentError("more than one address, or a malformed one: not sent")
    address = parsed[0][1]
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise PermanentError("not an email address: not sent")
    return address


def plus_address(address: str, token: str) -> str:
    """replies@example.org with a token: replies+token@example.org."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}+{token}@{domain}"


def plain_to_html(body: str, subject: str, large_print: bool = False) -> str:
    """A plain, accessible HTML copy of the text. Everything is escaped. Blank lines become
    paragraphs. The text is large and has good contrast. There are no images, tracking,
    logos or added links, so nothing reports back when the mail is opened, and nothing
    marks it as coming from an organisation."""
    size = "22px" if large_print else "17px"
    paragraphs = [p for p in re.split(r"\n\s*\n", body.replace("\r\n", "\n")) if p.strip()]
    blocks = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.strip().split("\n")) + "</p>"
        for p in paragraphs
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(subject)}</title>\n</head>\n"
        f'<body style="font-family: Arial, Helvetica, sans-serif; font-size: {size}; '
        'line-height: 1.5; color: #1a1a1a; background: #ffffff; max-width: 40em;">\n'
        f"{blocks}\n</body>\n</html>\n"
    )


def _one_line(text: str) -> str:
    """Headers are one line. A stray line break from a template would otherwise make the
    stdlib refuse the header, or worse, start a new one."""
    return _LINE_BREAKS.sub(" ", text).strip()


def _with_organizer(event: CalendarEvent, fallback_email: str) -> CalendarEvent:
    """Clients need an ORGANIZER to show an invitation. If the link worker has no email
    recorded, our sending address stands in."""
    return event if event.organizer_email else replace(event, organizer_email=fallback_email)


def dry_run_formatter(
    from_address: str, now: Callable[[], datetime] = _now
) -> Callable[[OutgoingMessage], bytes]:
    """For dry-run: the exact .eml the live channel would send, marked as not sent."""
    builder = EmailChannel(EmailConfig(host="dry-run.invalid", from_address=from_address))

    def format_eml(message: OutgoingMessage) -> bytes:
        raw = builder.compose(message, single_address(message.to), now()).raw
        end = raw.index(b"\r\n\r\n") + 2  # the last of the message's own headers
        marked = raw[:end] + b"X-Linkline-Dry-Run: written to a file, not sent\r\n" + raw[end:]
        return marked.replace(b"\r\n", b"\n")  # a file on disk, in the platform's line ends

    return format_eml

"""Email over SMTP (aiosmtplib), with an optional calendar invitation or cancellation.

Each email is a personal note from a link worker to one person. So: exactly one
recipient, the worker's first name as the sender, and no threading headers. Quoting or
threading earlier messages could show someone's history to whoever opens the mailbox.
``Reply-To`` names the replies mailbox with a token, which is not history: it only lets
the reply be heard. The Message-ID is derived from the idempotency key (keyed, so it
cannot be guessed). If a send is retried after a timeout that actually delivered, the
duplicate can then be recognised. Error details never carry addresses, bodies or the
server's free text, which often echoes the address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses

import aiosmtplib

from channels.base import (
    CalendarEvent,
    ChannelError,
    ChannelLimits,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.calendar_invite import build_ics
from channels.letter import attachment_pdf
from channels.mail_read import MESSAGE_ID_DOMAIN, token_of
from store.enums import Channel

log = logging.getLogger(__name__)

AUTH_HINT = "the mail server refused our login: check SMTP_USERNAME/SMTP_PASSWORD"
OPT_OUT_REASON = "their mail system refuses our messages"
# Only words that speak of the person's choice. "blocked" is left out on purpose: it
# usually means our own server is on a spam list, which is ours to fix, not their opt-out.
_OPT_OUT_WORDS = ("unsubscribed", "asked not to receive")
_ENHANCED_CODE = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_LINE_BREAKS = re.compile(r"[\r\n]+")


STARTTLS_HINT = (
    "the mail server does not offer STARTTLS, so nothing was sent: fix the server, or set "
    "SMTP_STARTTLS=false only for a local relay"
)


@dataclass(frozen=True)
class EmailConfig:
    """Where and how to hand mail over. ``use_tls`` is implicit TLS (port 465).

    ``start_tls`` defaults to ``not use_tls``: STARTTLS is *required*, never opportunistic,
    so a server (or someone in between) that does not offer it gets nothing, rather than
    the mail and the password in clear. Only a local relay without TLS sets it False.
    """

    host: str
    from_address: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False
    start_tls: bool | None = None  # None: required unless use_tls
    timeout: float = 20.0
    message_id_domain: str = MESSAGE_ID_DOMAIN
    # The replies mailbox's address: every email says "reply to" it, with the message's
    # token after a "+", so a reply is heard and matched to what it answers.
    reply_to: str | None = None
    # Makes Message-IDs (and so reply tokens) unguessable: nobody can forge a reply "from"
    # someone by naming a message of theirs. Without it (dry-run) a plain digest is used.
    id_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.start_tls is None:
            object.__setattr__(self, "start_tls", not self.use_tls)
        if self.start_tls and self.use_tls:
            raise ValueError("start_tls and use_tls cannot both be set")


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
        email = self.build(message, recipient, now, pdf=pdf)
        await self._hand_over(email, recipient)
        log.info("email accepted by the mail server: %s", email["Message-ID"])
        return Receipt(provider_id=str(email["Message-ID"]), status="accepted")

    def build(
        self, message: OutgoingMessage, recipient: str, now: datetime, *, pdf: bytes | None = None
    ) -> EmailMessage:
        """The complete email. It is public so tests and previews can see exactly what
        would be sent."""
        if not (message.subject or "").strip():
            raise PermanentError("no subject")
        subject = _one_line(message.subject or "")
        email = EmailMessage()
        email["From"] = formataddr((_one_line(message.sender_name), self.config.from_address))
        email["To"] = recipient
        email["Subject"] = subject
        email["Date"] = format_datetime(now.astimezone(UTC))
        email["Message-ID"] = self.message_id(message.idempotency_key)
        if self.config.reply_to:
            token = message.metadata.get("reply_token") or token_of(email["Message-ID"])
            email["Reply-To"] = plus_address(self.config.reply_to, token)
        email.set_content(message.body)
        html_body = message.html_body or plain_to_html(message.body, subject, message.large_print)
        email.add_alternative(html_body, subtype="html")
        if message.calendar is not None:
            self._add_calendar(email, message.calendar, recipient, message.recipient_name, now)
        if pdf is not None:  # a neutral file name: an attachment list is seen at a glance
            email.add_attachment(pdf, maintype="application", subtype="pdf", filename="letter.pdf")
        return email

    def _add_calendar(
        self, email: EmailMessage, event: CalendarEvent, recipient: str, name: str, now: datetime
    ) -> None:
        """Adds the invitation as a text/calendar alternative, which Outlook and Gmail show
        as an invitation, and as an invite.ics attachment for other clients. The MIME method
        must equal METHOD inside the file."""
        event = _with_organizer(event, self.config.from_address)
        ics = build_ics(event, recipient, name, now)
        # Bytes, not str: a str part would have its CRLF line ends (RFC 5545) turned into LF.
        params = {"method": event.method, "charset": "UTF-8"}
        email.add_alternative(ics, maintype="text", subtype="calendar", params=params)
        email.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")

    async def _hand_over(self, email: EmailMessage, recipient: str) -> None:
        """Connect (greeting, STARTTLS, login) and send as two steps, because a failure
        means different things in each: before MAIL FROM nothing can have been sent, but
        once the message is on its way a dropped connection may come after the server
        took it."""
        config = self.config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=bool(config.start_tls),
            timeout=config.timeout,
        )
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = connect_error(exc)
            log.warning("email not sent: %s", error.detail)
            raise error from None
        try:
            errors, _ = await smtp.send_message(
                email, sender=config.from_address, recipients=[recipient]
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = smtp_error(exc)
            log.warning("email not sent: %s", error.detail)
            raise error from None
        finally:
            await _quit(smtp)
        for refusal in errors.values():
            raise _from_reply(refusal.code, refusal.message)

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """Email arrives within minutes; the dispatcher needs no margin."""
        return send_at

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """SMTP cannot be asked whether a message was taken, so there is nothing to find."""
        return None

    async def aclose(self) -> None:
        """Each send opens and closes its own connection, so there is nothing to close."""
        return None


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


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say goodbye; the mail is already settled, so a failure here changes nothing."""
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def connect_error(exc: BaseException) -> ChannelError:
    """A failure while connecting, greeting, starting TLS or logging in: no message has
    left yet, so it is always safe to try again (after a fix, where it is ours)."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return TransientError(AUTH_HINT, code=str(exc.code))
    if isinstance(exc, aiosmtplib.SMTPException) and "STARTTLS" in str(exc):
        return TransientError(STARTTLS_HINT, code="starttls")
    if isinstance(exc, TimeoutError):
        return TransientError("the mail server did not answer in time", code="connect")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return TransientError(
            f"the mail server refused the connection ({_codes(exc.code, exc.message)})",
            code=str(exc.code),
        )
    return TransientError(f"could not reach the mail server ({type(exc).__name__})", code="connect")


def smtp_error(exc: BaseException) -> ChannelError:
    """What a failed conversation with the mail server means for us. A login, sender or
    greeting refusal is our own fault. It is transient, because it is waiting for a fix,
    not for a fallback. An answer about the recipient is judged by its code. A dropped
    connection or a timeout that is not a connect failure may come after the server took
    the message: a person checks rather than resend."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return TransientError(AUTH_HINT, code=str(exc.code))
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return _from_reply(first.code, first.message)
    if isinstance(exc, aiosmtplib.SMTPConnectError):  # incl. connect timeouts
        return TransientError("could not reach the mail server", code="connect")
    if isinstance(exc, TimeoutError):
        # A timeout after DATA may still have delivered: a person checks rather than resend.
        return OutcomeUnknown("the mail server did not answer in time", code="timeout")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError):
        return OutcomeUnknown(
            "the mail server dropped the connection; it may have taken the message",
            code="disconnected",
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # e.g. the address needs SMTPUTF8 and the server has none: the same mail never goes.
        return PermanentError(
            "the mail server cannot take this message (an extension it lacks, such as SMTPUTF8)",
            code="not_supported",
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPHeloError):
        return TransientError(
            f"the mail server refused our sender ({_codes(exc.code, exc.message)}): "
            "check the from address and server settings",
            code=str(exc.code),
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _from_reply(exc.code, exc.message)
    if isinstance(exc, OSError):  # a socket error mid-conversation: it may have gone
        return OutcomeUnknown(
            f"the mail server conversation broke off ({type(exc).__name__}); "
            "it may have taken the message",
            code="disconnected",
        )
    if isinstance(exc, aiosmtplib.SMTPException):
        return TransientError(f"mail server conversation failed ({type(exc).__name__})")
    return TransientError("mail server conversation failed")


def _from_reply(code: int, reply: str) -> ChannelError:
    """4xx is worth retrying. 5xx means this address will not take our mail. A 5.7.1 that
    says the person asked not to receive or unsubscribed counts as an
    opt-out. Only the codes are kept, never the server's text."""
    codes = _codes(code, reply)
    if 400 <= code < 500:
        return TransientError(f"the mail server asked us to try later ({codes})", code=str(code))
    if 500 <= code < 600:
        lowered = reply.lower()
        if "5.7.1" in reply and any(word in lowered for word in _OPT_OUT_WORDS):
            return PermanentError(
                f"the recipient's mail system refuses our messages ({codes})",
                code=str(code),
                opt_out_reason=OPT_OUT_REASON,
            )
        return PermanentError(f"the mail server refused the address ({codes})", code=str(code))
    return TransientError(f"unexpected mail server reply ({codes})", code=str(code))


def _codes(code: int, reply: str) -> str:
    enhanced = _ENHANCED_CODE.search(reply or "")
    return f"{code} {enhanced.group(0)}" if enhanced else str(code)


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
        email = builder.build(message, single_address(message.to), now())
        email["X-Linkline-Dry-Run"] = "written to a file, not sent"
        return email.as_bytes()

    return format_eml

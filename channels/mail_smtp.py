"""Handing an email to the SMTP server (aiosmtplib): its settings, a few connections kept
open between messages, and what each failure means.

A message goes in two steps, because a failure means different things in each. The
envelope (MAIL FROM, RCPT TO) carries none of the message, so a failure there can always
be tried again; a kept connection the server closed while it sat idle shows up there,
and the message goes on a fresh connection at once. Once DATA has begun, a dropped
connection may come after the server took the message: that is reported as uncertain,
and never sent again by us. Error details never carry addresses or the server's free
text, which often echoes the address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, field

import aiosmtplib

from channels.base import ChannelError, OutcomeUnknown, PermanentError, TransientError
from channels.mail_read import MESSAGE_ID_DOMAIN

log = logging.getLogger(__name__)

AUTH_HINT = "the mail server refused our login: check SMTP_USERNAME/SMTP_PASSWORD"
OPT_OUT_REASON = "their mail system refuses our messages"
# Only words that speak of the person's choice. "blocked" is left out on purpose: it
# usually means our own server is on a spam list, which is ours to fix, not their opt-out.
_OPT_OUT_WORDS = ("unsubscribed", "asked not to receive")
_ENHANCED_CODE = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


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
    # Connections kept open and used one message at a time: a batch's emails go over a
    # few at once, not one connection (greeting, STARTTLS, login) per message.
    connections: int = 4

    def __post_init__(self) -> None:
        if self.start_tls is None:
            object.__setattr__(self, "start_tls", not self.use_tls)
        if self.start_tls and self.use_tls:
            raise ValueError("start_tls and use_tls cannot both be set")
        if self.connections < 1:
            raise ValueError("at least one connection to the mail server is needed")


# A kept connection is closed after this long unused (servers drop idle ones after a few
# minutes) or this many messages (some servers limit a connection's messages).
MAX_IDLE_SECONDS = 30.0
MAX_MESSAGES_PER_CONNECTION = 100


class _Stale(Exception):
    """The envelope failed in a way that says the connection is gone (dropped, or 421
    "closing"): nothing of the message left. ``error`` is what it means on a fresh one."""

    def __init__(self, error: ChannelError) -> None:
        super().__init__(error.detail)
        self.error = error


@dataclass
class _Kept:
    smtp: aiosmtplib.SMTP
    messages: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class SmtpPool:
    """Up to ``config.connections`` connections, each carrying one message at a time and
    kept for the next. Connections belong to the event loop that opened them; on another
    loop (a second ``asyncio.run``) the pool starts again."""

    def __init__(self, config: EmailConfig) -> None:
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(config.connections)
        self._idle: list[_Kept] = []

    async def hand_over(self, raw: bytes, recipient: str, *, utf8: bool) -> None:
        """Send ``raw`` to ``recipient``, or raise the ChannelError that says what happened."""
        async with self._slots_here():
            kept = self._reusable()
            if kept is not None:
                try:
                    await self._send(kept, raw, recipient, utf8)
                    return
                except _Stale:
                    log.info("a kept mail connection had closed; sending on a fresh one")
            kept = _Kept(await self._open())
            try:
                await self._send(kept, raw, recipient, utf8)
            except _Stale as stale:
                log.warning("email not sent: %s", stale.error.detail)
                raise stale.error from None

    async def aclose(self) -> None:
        """Say goodbye on every kept connection."""
        idle, self._idle = self._idle, []
        if self._loop is not None and self._loop is not _running_loop():
            for kept in idle:
                _abandon(kept.smtp)
            return
        for kept in idle:
            await _quit(kept.smtp)

    def _slots_here(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for kept in self._idle:  # opened on a loop that is gone or not this one
                _abandon(kept.smtp)
            self._idle = []
            self._loop, self._slots = loop, asyncio.Semaphore(self.config.connections)
        return self._slots

    def _reusable(self) -> _Kept | None:
        """The most recently used live connection; the too-old and the closed are let go."""
        now = time.monotonic()
        while self._idle:
            kept = self._idle.pop()
            fresh = now - kept.idle_since < MAX_IDLE_SECONDS
            if kept.smtp.is_connected and fresh:
                return kept
            _abandon(kept.smtp)
        return None

    async def _open(self) -> aiosmtplib.SMTP:
        """Connect: greeting, STARTTLS and login. Nothing can have been sent yet."""
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
            _abandon(smtp)
            error = connect_error(exc)
            log.warning("email not sent: %s", error.detail)
            raise error from None
        return smtp

    async def _send(self, kept: _Kept, raw: bytes, recipient: str, utf8: bool) -> None:
        """One transaction on one connection; the connection is kept only if it ended well."""
        smtp = kept.smtp
        try:
            await _envelope(smtp, self.config.from_address, recipient, raw, utf8)
        except _Stale:
            _abandon(smtp)
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _end(smtp, exc)
            error = envelope_error(exc)
            log.warning("email not sent: %s", error.detail)
            raise error from None
        except BaseException:
            _abandon(smtp)
            raise
        try:
            await smtp.data(raw)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _end(smtp, exc)
            error = smtp_error(exc)
            log.warning("email not sent: %s", error.detail)
            raise error from None
        except BaseException:  # cancelled mid-message: the connection's state is unknown
            _abandon(smtp)
            raise
        kept.messages += 1
        kept.idle_since = time.monotonic()
        if kept.messages < MAX_MESSAGES_PER_CONNECTION:
            self._idle.append(kept)
        else:
            await _quit(smtp)


async def _envelope(
    smtp: aiosmtplib.SMTP, sender: str, recipient: str, raw: bytes, utf8: bool
) -> None:
    """MAIL FROM and RCPT TO, with the options the server offers. A non-ASCII address
    needs SMTPUTF8; a server without it can never take this message."""
    if utf8 and not smtp.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
    options = ["SMTPUTF8"] if utf8 else []
    if smtp.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    if smtp.supports_extension("size"):
        options.insert(0, f"size={len(raw)}")
    encoding = "utf-8" if utf8 else "ascii"
    try:
        await smtp.mail(sender, options=options, encoding=encoding)
        await smtp.rcpt(recipient, encoding=encoding)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code == 421:  # "closing the connection": nothing was taken
            raise _Stale(smtp_error(exc)) from exc
        raise
    except ConnectionError as exc:  # SMTPServerDisconnected too
        raise _Stale(
            TransientError(
                "the mail server dropped the connection before the message was sent",
                code="disconnected",
            )
        ) from exc


def envelope_error(exc: BaseException) -> ChannelError:
    """A failure before DATA: the server has none of the message, so nothing here is
    uncertain; a refusal is judged by its code, as anywhere."""
    if isinstance(exc, TimeoutError):
        return TransientError("the mail server did not answer in time", code="timeout")
    if isinstance(exc, OSError):
        return TransientError(
            f"the mail server conversation broke off before the message ({type(exc).__name__})",
            code="disconnected",
        )
    return smtp_error(exc)


async def _end(smtp: aiosmtplib.SMTP, exc: BaseException) -> None:
    """After a failure: a goodbye where the server answered (a refusal), none where it did
    not (a timeout or a broken line would only make the goodbye wait as long again)."""
    if isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPNotSupported):
        await _quit(smtp)
    else:
        _abandon(smtp)


def _abandon(smtp: aiosmtplib.SMTP) -> None:
    """Close without a goodbye: the connection is broken, or its loop is gone."""
    with contextlib.suppress(RuntimeError):  # its event loop is closed: the socket too
        smtp.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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

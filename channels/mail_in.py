"""The replies mailbox over IMAP (aioimaplib): what is new, each message, and marking one
as handled once its reply is stored.

New means not yet seen (``UNSEEN``): the mailbox is Linkline's own, and a message is
marked ``\\Seen`` only after listening has stored it, so a crash in between means it is
read again next time and recognised as a repeat by its Message-ID. Messages are never
deleted or moved: the original stays in the mailbox whatever Linkline made of it.

aioimaplib speaks TLS from the first byte (IMAPS, port 993) and has no STARTTLS, so a
mailbox anywhere but this machine must be ``imaps://``; plain IMAP is refused when the
settings are read. Error details never carry the server's free text.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from types import TracebackType

import aioimaplib

from channels.base import TransientError
from channels.mail_read import RawMail

log = logging.getLogger(__name__)

MAX_FETCH_BYTES = 2_000_000  # a reply is a few kB; a bigger message is read from its start
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    tls: bool = True
    mailbox: str = "INBOX"
    timeout: float = 30.0
    max_fetch_bytes: int = MAX_FETCH_BYTES

    def __post_init__(self) -> None:
        if not self.tls and self.host.lower() not in LOCAL_HOSTS:
            raise ValueError("IMAP without TLS is only for a mailbox on this machine")


class ImapMailbox:
    """One connection to the replies mailbox, for one pass: ``async with`` opens, logs
    in and selects; leaving logs out."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self._client: aioimaplib.IMAP4 | None = None

    async def __aenter__(self) -> ImapMailbox:
        config = self.config
        try:
            if config.tls:
                self._client = aioimaplib.IMAP4_SSL(
                    host=config.host,
                    port=config.port,
                    timeout=config.timeout,
                    ssl_context=ssl.create_default_context(),
                )
            else:
                self._client = aioimaplib.IMAP4(
                    host=config.host, port=config.port, timeout=config.timeout
                )
            await self._client.wait_hello_from_server()
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            await self._drop()
            raise TransientError(
                f"could not reach the replies mailbox ({type(exc).__name__})", code="connect"
            ) from None
        login = await self._ok(self._client.login(config.username, config.password), "login")
        if login is None:
            await self._drop()
            raise TransientError(
                "the replies mailbox refused our login: check the IMAP user and password",
                code="login",
            )
        if await self._ok(self._client.select(config.mailbox), "select") is None:
            await self._drop()
            raise TransientError(
                "the replies mailbox has no folder by the configured name", code="select"
            )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.logout()
        except Exception:  # the pass is over; a goodbye that fails changes nothing
            log.info("the replies mailbox did not say goodbye")

    async def new_messages(self) -> list[str]:
        """The UIDs of messages not yet marked as handled, oldest first."""
        response = await self._need(self._client_().uid_search("UNSEEN"), "search")
        words = b" ".join(line for line in response.lines[:-1] if isinstance(line, bytes))
        uids = [word.decode() for word in words.split() if word.isdigit()]
        return sorted(uids, key=int)

    async def fetch(self, uid: str) -> RawMail:
        """The message, whole, or its first part when it is larger than anyone's reply.
        ``BODY.PEEK`` leaves it unseen until it is marked handled."""
        size = await self._size(uid)
        limit = self.config.max_fetch_bytes
        truncated = size is None or size > limit
        part = f"BODY.PEEK[]<0.{limit}>" if truncated else "BODY.PEEK[]"
        response = await self._need(self._client_().uid("fetch", uid, f"({part})"), "fetch")
        data = next((bytes(line) for line in response.lines if isinstance(line, bytearray)), b"")
        return RawMail(uid=uid, data=data, truncated=truncated and len(data) >= limit)

    async def mark_handled(self, uid: str) -> None:
        await self._need(
            self._client_().uid("store", uid, "+FLAGS.SILENT", "(\\Seen)"), "mark as read"
        )

    async def _size(self, uid: str) -> int | None:
        response = await self._need(self._client_().uid("fetch", uid, "(RFC822.SIZE)"), "fetch")
        for line in response.lines:
            if isinstance(line, bytes) and b"RFC822.SIZE" in line:
                after = line.split(b"RFC822.SIZE", 1)[1].strip(b" ()").split(b" ")[0]
                return int(after) if after.isdigit() else None
        return None

    def _client_(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise TransientError("the replies mailbox is not open", code="closed")
        return self._client

    async def _need(self, call: Awaitable[aioimaplib.Response], what: str) -> aioimaplib.Response:
        response = await self._ok(call, what)
        if response is None:
            raise TransientError(f"the replies mailbox refused to {what}", code=what)
        return response

    async def _ok(
        self, call: Awaitable[aioimaplib.Response], what: str
    ) -> aioimaplib.Response | None:
        try:
            response = await call
        except (OSError, TimeoutError, aioimaplib.Abort, aioimaplib.CommandTimeout) as exc:
            raise TransientError(
                f"the replies mailbox stopped answering ({what}, {type(exc).__name__})",
                code=what,
            ) from None
        return response if response.result == "OK" else None

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.protocol is not None:
            transport = getattr(client.protocol, "transport", None)
            if transport is not None:
                transport.close()

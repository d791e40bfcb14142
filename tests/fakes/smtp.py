"""A real SMTP server on loopback (aiosmtpd) that records what it is given.

The email channel is tested against a real SMTP conversation, not a mock of aiosmtplib.
That way the envelope, the refusal codes and the bytes on the wire are the ones a
production server would see. The server runs in its own thread (aiosmtpd's Controller),
so it works from any pytest or pytest-asyncio fixture.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["RCPT", "DATA"]


@dataclass(frozen=True)
class Delivery:
    """One accepted message, as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class _Handler:
    """aiosmtpd hooks. They record accepted mail and give back any queued refusal once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ledger: list[Delivery] = []
        self._refusals: dict[Stage, str] = {}
        self._drop_after_data = False

    def refuse_next(self, stage: Stage, reply: str) -> None:
        with self._lock:
            self._refusals[stage] = reply

    def drop_after_next_data(self) -> None:
        with self._lock:
            self._drop_after_data = True

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._ledger)

    def _take(self, stage: Stage) -> str | None:
        with self._lock:
            return self._refusals.pop(stage, None)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._take("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._take("DATA")
        if refusal:
            return refusal
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        delivery = Delivery(str(envelope.mail_from), tuple(envelope.rcpt_tos), raw, parsed)
        with self._lock:
            self._ledger.append(delivery)  # append-only: nothing is ever removed
            drop, self._drop_after_data = self._drop_after_data, False
        if drop and server.transport is not None:
            # Took the message, then the line went dead before the 250 reached the client.
            server.transport.abort()
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port that was free a moment ago: bind to 0 and let the OS choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeSMTPServer:
    """Start, send mail to ``host``/``port``, read ``deliveries()``, stop.

    With ``credentials`` the server offers AUTH (PLAIN/LOGIN) without TLS and requires
    it, so a wrong password gets the real "535 5.7.8" answer.
    """

    host = "127.0.0.1"

    def __init__(
        self, credentials: tuple[str, str] | None = None, *, smtputf8: bool = True
    ) -> None:
        self.handler = _Handler()
        self.port = 0
        self._credentials = credentials
        self._smtputf8 = smtputf8  # False: a server that cannot take non-ASCII addresses
        self._controller: Controller | None = None

    def start(self) -> FakeSMTPServer:
        self.port = free_port()
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": self._smtputf8}
        if self._credentials:
            kwargs |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def deliveries(self) -> list[Delivery]:
        return self.handler.deliveries()

    def refuse_next(self, stage: Stage, reply: str) -> None:
        """Answer the next RCPT or DATA with ``reply``, e.g. "451 4.3.0 try later"."""
        self.handler.refuse_next(stage, reply)

    def drop_after_next_data(self) -> None:
        """Accept the next message (it is in the ledger), then cut the connection before
        the client hears so: the case where a resend would deliver it twice."""
        self.handler.drop_after_next_data()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self._credentials is None:
            return AuthResult(success=False, handled=False)
        given = (data.login.decode(), data.password.decode())
        return AuthResult(success=given == self._credentials, handled=False)

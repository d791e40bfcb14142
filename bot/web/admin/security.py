"""Sessions, CSRF tokens and security headers for the staff pages.

The cookie is signed (itsdangerous) and carries only a random session id, a CSRF token
and any one-off banner lines (which name people by reference, never by name). Who the
session belongs to, when it started and when it was last used live in the database
(``bot.services.staff.sessions``), which alone decides whether it still works: signing
out, a new password, a role change or a closed account ends it for every copy of the
cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

COOKIE = "linkline_session"
CSRF_FIELD = "csrf_token"
_UNGUARDED = ("/webhooks/", "/healthz", "/static/")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class WebSession:
    """What the cookie carries. ``changed`` is set by anything that must reach the browser."""

    data: dict[str, Any] = field(default_factory=dict)
    cleared: bool = False

    @property
    def token(self) -> str | None:
        """The session id, looked up (by its hash) in the database."""
        value = self.data.get("sid")
        return value if isinstance(value, str) else None

    def csrf_token(self) -> str:
        token = self.data.get("csrf")
        if not isinstance(token, str):
            token = self.data["csrf"] = secrets.token_urlsafe(32)
        return token

    def csrf_ok(self, given: object) -> bool:
        token = self.data.get("csrf")
        return (
            isinstance(token, str)
            and isinstance(given, str)
            and secrets.compare_digest(token.encode(), given.encode())
        )

    def start(self, token: str) -> None:
        """A fresh session at sign-in: nothing from before (a fixated token) survives."""
        self.data = {"sid": token, "csrf": secrets.token_urlsafe(32)}
        self.cleared = False

    def end(self) -> None:
        self.data, self.cleared = {}, True

    def flash(self, text: str) -> None:
        self.data.setdefault("flash", []).append(text[:300])

    def take_flashes(self) -> list[str]:
        return list(self.data.pop("flash", []))


class SessionSigner:
    def __init__(self, key: bytes, *, idle_seconds: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="linkline staff session")
        self.idle_seconds = idle_seconds
        self.secure = secure

    def load(self, cookie: str | None) -> dict[str, Any]:
        if not cookie or len(cookie) > 4096:
            return {}
        try:
            data = self._serializer.loads(cookie, max_age=self.idle_seconds)
        except BadSignature:  # includes SignatureExpired: idle too long
            return {}
        return data if isinstance(data, dict) else {}

    def set_cookie(self, data: dict[str, Any]) -> str:
        value = self._serializer.dumps(data)
        parts = [
            f"{COOKIE}={value}",
            "Path=/",
            f"Max-Age={self.idle_seconds}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def clear_cookie(self) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"


class SessionCookies:
    """ASGI middleware: reads the session into ``request.state.session`` and writes it back.

    Webhooks, health and static files are left alone: they are not pages a person signs in
    to, and a cookie there would only be noise.
    """

    def __init__(self, app: ASGIApp, signer: SessionSigner) -> None:
        self.app, self.signer = app, signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNGUARDED):
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(COOKIE)
        session = WebSession(self.signer.load(cookie))
        scope.setdefault("state", {})["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if session.cleared:
                    headers.append("set-cookie", self.signer.clear_cookie())
                elif session.data:
                    headers.append("set-cookie", self.signer.set_cookie(session.data))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeaders:
    """ASGI middleware: a strict content security policy (with a nonce for the one inline
    script GOV.UK Frontend's template needs), no framing, no referrer, and no caching of
    pages that carry personal data."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = (
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
                    "frame-ancestors 'none'; form-action 'self'"
                )
                headers["x-content-type-options"] = "nosniff"
                headers["x-frame-options"] = "DENY"
                headers["referrer-policy"] = "no-referrer"
                headers["permissions-policy"] = "camera=(), microphone=(), geolocation=()"
                headers["cross-origin-opener-policy"] = "same-origin"
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if self.https:
                    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)

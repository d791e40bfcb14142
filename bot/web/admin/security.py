"""Sessions, CSRF tokens and security headers for the staff pages.

A session is a signed cookie (itsdangerous) holding only the staff id, the account's
session version, when it started and a CSRF token. Signing it again on every page load
makes the signature's timestamp the time of the last page: an idle session simply fails
to verify. Bumping ``Staff.session_version`` (new password, account closed) ends every
session of that person at their next click.
"""

from __future__ import annotations

import secrets
import time
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
    def staff_id(self) -> int | None:
        value = self.data.get("sid")
        return value if isinstance(value, int) else None

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

    def start(self, staff_id: int, version: int) -> None:
        """A fresh session at sign-in: nothing from before (a fixated token) survives."""
        self.data = {
            "sid": staff_id,
            "v": version,
            "t0": int(time.time()),
            "csrf": secrets.token_urlsafe(32),
        }
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


class SignInThrottle:
    """At most ``limit`` sign-in attempts per address per window, in this process.

    The per-account lockout in the database is the real guard; this stops one address
    spraying many accounts (which a per-account count never sees).
    """

    def __init__(self, limit: int = 20, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._tries: dict[str, list[float]] = {}

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._tries.get(address, []) if now - t < self.window]
        if len(self._tries) > 10_000:  # a flood of addresses must not grow memory forever
            self._tries.clear()
        if len(recent) >= self.limit:
            self._tries[address] = recent
            return False
        recent.append(now)
        self._tries[address] = recent
        return True

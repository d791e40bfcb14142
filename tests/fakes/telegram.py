"""A fake Telegram Bot API on loopback: enough of getMe and sendMessage to test a real
PTB ``Bot`` against, with a ledger of what "arrived" and Telegram's failures on demand.

It runs inside the test's own event loop (aiohttp AppRunner + TCPSite on an ephemeral
port), so there is no thread and no shared state between tests.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Linkline",
    "username": "linkline_test_bot",
}

Failure = Literal[
    "blocked",
    "deactivated",
    "chat_not_found",
    "bad_request",
    "flood",
    "server",
    "unavailable",
    "bad_gateway",
    "gateway_timeout",
]
# How an accepted message can be answered oddly: the message is in the ledger, but the reply
# is broken JSON, or a bare true/null instead of the Message.
OddReply = Literal["broken_json", "true", "null"]

_FAILURES: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "bad_request": (400, "Bad Request: message text is empty"),
    "flood": (429, "Too Many Requests: retry after {retry_after}"),
    "server": (500, "Internal Server Error"),  # may have been processed
    "unavailable": (503, "Service Unavailable"),  # refused before any work
    "bad_gateway": (502, "Bad Gateway"),
    "gateway_timeout": (504, "Gateway Timeout"),
}


@dataclass(frozen=True)
class Sent:
    """One message the fake accepted, with every parameter as it arrived (strings)."""

    chat_id: str
    text: str
    at: float  # time.monotonic() on arrival
    params: dict[str, str]


class FakeTelegram:
    """Start with ``async with FakeTelegram() as fake``; point PTB at ``fake.url + "/bot"``."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, strict_spacing: bool = False) -> None:
        self.token = token
        # When set, a second message to one chat less than a second after the previous one
        # gets 429, as real Telegram does under load.
        self.strict_spacing = strict_spacing
        self.ledger: list[Sent] = []  # append-only: what reached the "phone"
        self.calls: list[str] = []  # every method called, in order, including refusals
        self.flood_rejections = 0
        self._arrivals: dict[str, list[float]] = defaultdict(list)
        self._next_ids: dict[str, int] = defaultdict(int)
        self._failures: list[tuple[Failure, int]] = []
        self._get_me_failures: list[Failure | Literal["broken_json"]] = []
        self._odd_replies: list[OddReply] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)  # paths hold the token
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def fail_next(self, failure: Failure, *, retry_after: int = 3) -> None:
        """Refuse the next sendMessage this way (queued: call twice to fail twice)."""
        self._failures.append((failure, retry_after))

    def fail_next_get_me(self, failure: Failure | Literal["broken_json"]) -> None:
        """Answer the next getMe this way (what a bot calls once, before its first send)."""
        self._get_me_failures.append(failure)

    def odd_reply_next(self, reply: OddReply) -> None:
        """Accept the next message (it reaches the ledger) but answer it oddly."""
        self._odd_replies.append(reply)

    def arrivals(self, chat_id: str) -> list[float]:
        """When each accepted message to this chat arrived (time.monotonic())."""
        return list(self._arrivals[chat_id])

    def received_by(self, chat_id: str) -> list[Sent]:
        return [s for s in self.ledger if s.chat_id == chat_id]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        if method == "getMe":
            if self._get_me_failures:
                failure = self._get_me_failures.pop(0)
                if failure == "broken_json":
                    return web.Response(text='{"ok": true, "result": {"id": 1', status=200)
                return _failure(failure, 3)
            return _ok(BOT_USER)
        if method == "sendMessage":
            return self._send_message(params)
        return _error(404, "Not Found")

    def _send_message(self, params: dict[str, str]) -> web.Response:
        chat_id, text = params.get("chat_id", ""), params.get("text", "")
        if self._failures:
            return _failure(*self._failures.pop(0))
        if not text:
            return _error(400, "Bad Request: message text is empty")
        now = time.monotonic()
        previous = self._arrivals[chat_id]
        if self.strict_spacing and previous and now - previous[-1] < 1.0:
            self.flood_rejections += 1
            return _failure("flood", 1)
        previous.append(now)
        self.ledger.append(Sent(chat_id=chat_id, text=text, at=now, params=params))
        self._next_ids[chat_id] += 1  # like Telegram: message ids count per chat
        message = {
            "message_id": self._next_ids[chat_id],
            "from": BOT_USER,
            "chat": {"id": int(chat_id), "type": "private", "first_name": "Expert"},
            "date": int(time.time()),
            "text": text,
            "has_protected_content": params.get("protect_content") == "true",
        }
        if self._odd_replies:
            odd = self._odd_replies.pop(0)
            if odd == "broken_json":  # cut off mid-way: the chat, name and text are in it
                body = json.dumps({"ok": True, "result": message})
                return web.Response(text=body[:-3], status=200)
            return _ok(True if odd == "true" else None)
        return _ok(message)


async def _params(request: web.Request) -> dict[str, str]:
    """PTB sends form bodies (urlencoded or multipart); other clients may send JSON."""
    if request.content_type == "application/json":
        data = await request.json()
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    form = await request.post()
    return {k: str(v) for k, v in form.items()}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, **extra: Any) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return web.json_response(body, status=status)


def _failure(failure: Failure, retry_after: int) -> web.Response:
    status, description = _FAILURES[failure]
    if failure == "flood":
        return _error(
            status,
            description.format(retry_after=retry_after),
            parameters={"retry_after": retry_after},
        )
    return _error(status, description)

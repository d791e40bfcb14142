"""A fake Telegram Bot API on loopback: enough of getMe, sendMessage, the webhook methods
and inline buttons to test a real PTB ``Bot`` against, with a ledger of what "arrived" and
Telegram's failures on demand.

It runs inside the test's own event loop (aiohttp AppRunner + TCPSite on an ephemeral
port), so there is no thread and no shared state between tests. A test that drives a
synchronous command (a CLI command that calls ``asyncio.run``) can run it with
``await asyncio.to_thread(...)`` so the fake keeps answering meanwhile.

What it refuses, it refuses the way Telegram does (status and description), so code under
test meets the same errors it will meet for real:

- ``setWebhook`` takes only an https URL on port 443, 80, 88 or 8443, and a secret of 1 to
  256 of ``A-Z a-z 0-9 _ -``;
- ``editMessageReplyMarkup`` needs a message the bot sent, and a markup that changes it;
- ``fail_next_call(method, failure)`` refuses the next call of any method.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

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
    "query_too_old",
    "unauthorized",
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
    "query_too_old": (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
    "unauthorized": (401, "Unauthorized"),
}
SUPPORTED_WEBHOOK_PORTS = (443, 80, 88, 8443)  # telegram.constants.SUPPORTED_WEBHOOK_PORTS
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Sent:
    """One message the fake accepted, with every parameter as it arrived (strings)."""

    chat_id: str
    text: str
    at: float  # time.monotonic() on arrival
    params: dict[str, str]
    # The inline keyboard as Telegram read it (parsed JSON), or None when none was sent.
    reply_markup: dict[str, Any] | None = None
    message_id: int = 0

    def button_rows(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of (label, callback data): [] without one."""
        return _rows(self.reply_markup)


@dataclass(frozen=True)
class Webhook:
    """What the last accepted setWebhook asked for."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    drop_pending_updates: bool
    params: dict[str, str]


@dataclass(frozen=True)
class CallbackAnswer:
    """One answerCallbackQuery: the little notice Telegram shows after a button press."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    params: dict[str, str]


@dataclass(frozen=True)
class MarkupEdit:
    """One accepted editMessageReplyMarkup (``reply_markup`` None: the buttons were removed)."""

    chat_id: str
    message_id: int
    reply_markup: dict[str, Any] | None
    params: dict[str, str]

    def button_rows(self) -> list[list[tuple[str, str]]]:
        return _rows(self.reply_markup)


class FakeTelegram:
    """Start with ``async with FakeTelegram() as fake``; point PTB at ``fake.url + "/bot"``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        strict_spacing: bool = False,
        overall_per_second: int | None = None,
    ) -> None:
        self.token = token
        # When set, a second message to one chat less than a second after the previous one
        # gets 429, as real Telegram does under load.
        self.strict_spacing = strict_spacing
        # When set, a message arriving when this many already arrived in the last second
        # (for the whole bot, any chat) gets 429: Telegram's bot-wide limit, held exactly.
        self.overall_per_second = overall_per_second
        self.too_many_requests = 0  # every HTTP 429 answered, whatever the reason
        self.ledger: list[Sent] = []  # append-only: what reached the "phone"
        self.calls: list[str] = []  # every method called, in order, including refusals
        # Every call with its parameters, in order, including refusals (never the token).
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.webhook: Webhook | None = None  # what Telegram would call now; None: no webhook
        self.webhook_history: list[Webhook] = []  # every accepted setWebhook
        self.webhook_deletions = 0
        # What getWebhookInfo reports besides the URL; tests set these to play Telegram.
        self.pending_update_count = 0
        self.last_webhook_error: tuple[int, str] | None = None  # (unix time, message)
        self.callback_answers: list[CallbackAnswer] = []
        self.markup_edits: list[MarkupEdit] = []
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._call_failures: dict[str, list[Failure]] = defaultdict(list)
        self.flood_rejections = 0
        self._arrivals: dict[str, list[float]] = defaultdict(list)
        self._last_second: deque[float] = deque()  # accepted sendMessage times, any chat
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

    def fail_next_call(self, method: str, failure: Failure, *, retry_after: int = 3) -> None:
        """Refuse the next call of ``method`` (e.g. "setWebhook") this way; queued.

        For sendMessage and getMe, ``fail_next`` and ``fail_next_get_me`` do the same."""
        if method == "sendMessage":
            self.fail_next(failure, retry_after=retry_after)
        else:
            self._call_failures[method].append(failure)

    def webhook_error(self, message: str, *, at: int | None = None) -> None:
        """Make getWebhookInfo report that the last delivery to our webhook failed."""
        self.last_webhook_error = (at if at is not None else int(time.time()), message)

    def params_of(self, method: str) -> list[dict[str, str]]:
        """The parameters of every call of ``method``, in order, refusals included."""
        return [params for name, params in self.requests if name == method]

    def last_sent(self, chat_id: str | None = None) -> Sent:
        """The latest accepted message (to ``chat_id`` when given); AssertionError if none."""
        sent = self.ledger if chat_id is None else self.received_by(chat_id)
        assert sent, "the fake Telegram accepted no message" + (
            "" if chat_id is None else " to that chat"
        )
        return sent[-1]

    def current_markup(self, chat_id: str, message_id: int) -> dict[str, Any] | None:
        """The buttons a message shows now, after any edits (None: no buttons)."""
        message = self._messages.get((chat_id, message_id))
        return None if message is None else message.get("reply_markup")

    def arrivals(self, chat_id: str) -> list[float]:
        """When each accepted message to this chat arrived (time.monotonic())."""
        return list(self._arrivals[chat_id])

    def received_by(self, chat_id: str) -> list[Sent]:
        return [s for s in self.ledger if s.chat_id == chat_id]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            self.requests.append((method, {}))
            return _error(401, "Unauthorized")
        params = await _params(request)
        self.requests.append((method, params))
        response = self._answer(method, params)
        if response.status == 429:
            self.too_many_requests += 1
        return response

    def _answer(self, method: str, params: dict[str, str]) -> web.Response:
        if self._call_failures.get(method):
            return _failure(self._call_failures[method].pop(0), 3)
        if method == "getMe":
            if self._get_me_failures:
                failure = self._get_me_failures.pop(0)
                if failure == "broken_json":
                    return web.Response(text='{"ok": true, "result": {"id": 1', status=200)
                return _failure(failure, 3)
            return _ok(BOT_USER)
        if method == "sendMessage":
            return self._send_message(params)
        handler = self._handlers().get(method)
        if handler is not None:
            return handler(params)
        return _error(404, "Not Found")

    def _handlers(self) -> dict[str, Callable[[dict[str, str]], web.Response]]:
        return {
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageReplyMarkup": self._edit_reply_markup,
        }

    def _set_webhook(self, params: dict[str, str]) -> web.Response:
        url = params.get("url", "")
        if not url:  # Telegram: an empty URL removes the webhook
            return self._delete_webhook(params)
        refusal = _webhook_refusal(url)
        if refusal:
            return _error(400, f"Bad Request: bad webhook: {refusal}")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        webhook = Webhook(
            url=url,
            secret_token=secret,
            allowed_updates=None if allowed is None else list(json.loads(allowed)),
            drop_pending_updates=_flag(params.get("drop_pending_updates")),
            params=params,
        )
        same = self.webhook is not None and self.webhook.url == url
        self.webhook = webhook
        self.webhook_history.append(webhook)
        self.last_webhook_error = None
        if webhook.drop_pending_updates:
            self.pending_update_count = 0
        return _ok(True, description="Webhook is already set" if same else "Webhook was set")

    def _delete_webhook(self, params: dict[str, str]) -> web.Response:
        had = self.webhook is not None
        self.webhook = None
        self.webhook_deletions += 1
        if _flag(params.get("drop_pending_updates")):
            self.pending_update_count = 0
        return _ok(True, description="Webhook was deleted" if had else "Webhook is already deleted")

    def _get_webhook_info(self, params: dict[str, str]) -> web.Response:
        info: dict[str, Any] = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if self.webhook is not None:
            info["max_connections"] = 40
            info["ip_address"] = "203.0.113.10"
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        if self.last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.last_webhook_error
        return _ok(info)

    def _answer_callback_query(self, params: dict[str, str]) -> web.Response:
        query_id = params.get("callback_query_id", "")
        if not query_id:
            return _error(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=params.get("text"),
                show_alert=_flag(params.get("show_alert")),
                params=params,
            )
        )
        return _ok(True)

    def _edit_reply_markup(self, params: dict[str, str]) -> web.Response:
        chat_id = params.get("chat_id", "")
        try:
            message_id = int(params.get("message_id", ""))
        except ValueError:
            return _error(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = _markup(params.get("reply_markup"))
        if not markup or not markup.get("inline_keyboard"):
            markup = None
        if markup == message.get("reply_markup"):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self.markup_edits.append(
            MarkupEdit(chat_id=chat_id, message_id=message_id, reply_markup=markup, params=params)
        )
        return _ok({**message, "edit_date": int(time.time())})

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
        if self.overall_per_second is not None:
            while self._last_second and now - self._last_second[0] >= 1.0:
                self._last_second.popleft()
            if len(self._last_second) >= self.overall_per_second:
                self.flood_rejections += 1
                return _failure("flood", 1)
            self._last_second.append(now)
        markup = _markup(params.get("reply_markup"))
        previous.append(now)
        self._next_ids[chat_id] += 1  # like Telegram: message ids count per chat
        message_id = self._next_ids[chat_id]
        self.ledger.append(
            Sent(
                chat_id=chat_id,
                text=text,
                at=now,
                params=params,
                reply_markup=markup,
                message_id=message_id,
            )
        )
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": int(chat_id), "type": "private", "first_name": "Expert"},
            "date": int(time.time()),
            "text": text,
            "has_protected_content": params.get("protect_content") == "true",
        }
        if markup and markup.get("inline_keyboard"):  # Telegram echoes inline keyboards only
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
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


def _ok(result: Any, *, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return web.json_response(body)


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _markup(value: str | None) -> dict[str, Any] | None:
    """PTB sends reply_markup as a JSON string inside the form."""
    if value is None:
        return None
    parsed = json.loads(value)
    return parsed if isinstance(parsed, dict) else None


def _rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    if not markup:
        return []
    return [
        [(button["text"], button.get("callback_data", "")) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


def _webhook_refusal(url: str) -> str | None:
    """Why Telegram would refuse this webhook URL, in its own words; None when it would not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Wrong port number specified in the URL"
    if parts.scheme != "https":
        return "An HTTPS URL must be provided for webhook"
    if not parts.hostname:
        return "Failed to resolve host: Name or service not known"
    if port is not None and port not in SUPPORTED_WEBHOOK_PORTS:
        return "Webhook can be set up only on ports 80, 88, 443 or 8443"
    return None


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

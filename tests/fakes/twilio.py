"""A fake Twilio Messages API on loopback, run inside the test's own event loop.

It speaks just enough of the real API for the SDK to work unchanged: basic auth, the
form fields of a Messages POST, Twilio's JSON for success and for errors, and signed
status callbacks. Everything received is kept in an append-only ledger, so a test can
assert exactly what would have reached a phone.

:class:`FakeTwilioThread` runs one in a thread with its own event loop, for tests whose
Linkline runs in other processes (``linkline worker``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

T = TypeVar("T")
MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass(frozen=True)
class FakeSms:
    """One Messages POST as the fake received it."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: str | None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Failure:
    """How to answer the next POST: an HTTP status with a Twilio code, or garbage."""

    status: int
    code: int | None = None
    message: str = "Unable to create record"
    garbage: bool = False
    retry_after: str | None = None
    delay: float = 0.0  # answer only after this long (to test our timeout)
    after_storing: bool = False  # keep the message first, then fail (Twilio's 500 of M-2)


@dataclass(frozen=True)
class Callback:
    """One status callback the fake will send after accepting a message."""

    status: str
    error_code: int | None = None


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    callback_delay: float = 0.01
    # Every accepted message is in the ledger at once, and the reply waits this long: a
    # sender killed meanwhile cannot know whether its text went.
    latency: float = 0.0
    ledger: list[FakeSms] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)  # sent for every accepted message
    callback_responses: list[int] = field(default_factory=list)
    requests_seen: int = 0
    list_requests: int = 0
    # Texts stay in Twilio's queue (status "queued", no DateSent) instead of going at once.
    queue_texts: bool = False
    # When the fake thinks it is: tests on a simulated clock pass theirs, so DateSent and
    # date_created agree with the attempts Linkline recorded.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _failures: list[Failure] = field(default_factory=list)
    _list_failures: list[int] = field(default_factory=list)
    _slow: list[float] = field(default_factory=list)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    url: str = ""

    async def start(self) -> FakeTwilio:
        app = web.Application()
        path = MESSAGES_PATH.format(sid="{sid}")
        app.router.add_post(path, self._create)
        app.router.add_get(path, self._list)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._release.set()  # a held reply ends now, so shutting down does not wait for it
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_next(self, status: int, code: int | None = None, **kwargs: Any) -> None:
        """Answer the next POST with this error (queued: several calls fail several POSTs)."""
        self._failures.append(Failure(status, code, **kwargs))

    def fail_after_storing_next(self, status: int = 500, code: int | None = None) -> None:
        """Keep the next message (it is in the ledger and listed) but answer with this
        error, as Twilio did in the review's M-2."""
        self._failures.append(Failure(status, code, after_storing=True))

    def fail_list_next(self, status: int = 500) -> None:
        """Answer the next Messages list with this error (queued)."""
        self._list_failures.append(status)

    def garbage_next(self, status: int = 201) -> None:
        self._failures.append(Failure(status, garbage=True))

    def delay_next(self, seconds: float) -> None:
        """Accept the next message (it is in the ledger) but hold the reply this long,
        like a Twilio that queued the text and then hung."""
        self._slow.append(seconds)

    def delays_waiting(self) -> int:
        """How many :meth:`delay_next` holds no message has reached yet."""
        return len(self._slow)

    async def _hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), seconds)

    def signed_callback(
        self, url: str, sid: str, status: str, error_code: int | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers Twilio would post to ``url`` for this status."""
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return params, {"X-Twilio-Signature": signature}

    # --- handlers ---------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        self.requests_seen += 1
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None and not failure.after_storing:
            await self._hold(failure.delay)
            return _failure(failure)
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        callback = form.get("StatusCallback")
        validity = form.get("ValidityPeriod")
        sms = FakeSms(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=str(form.get("From", "")),
            body=body,
            status_callback=str(callback) if callback is not None else None,
            validity_period=str(validity) if validity is not None else None,
            created=self.now(),
        )
        self.ledger.append(sms)
        if failure is not None:
            await self._hold(failure.delay)
            return _failure(failure)
        if sms.status_callback and self.callbacks:
            self._spawn(self._post_callbacks(sms.status_callback, sms.sid))
        if self._slow:
            await self._hold(self._slow.pop(0))
        elif self.latency:
            await self._hold(self.latency)
        return web.json_response(self._json(sms), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        """The Messages list, newest first, filtered by To, From and DateSent (a day, or
        on/after/before a moment, as the SDK's ``date_sent*`` arguments send them). The
        fake sends every text at once, so its DateSent is when it took it."""
        self.list_requests += 1
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if self._list_failures:
            status = self._list_failures.pop(0)
            return _error(status, status, "Unable to list records")
        query = request.query
        try:
            size = int(query.get("PageSize", "50"))
            kept = [m for m in reversed(self.ledger) if _listed(m, query, self.queue_texts)]
        except ValueError:
            return _error(400, 20001, "Invalid filter")
        page = [self._json(m, listed=True) for m in kept[:size]]
        return web.json_response(
            {"messages": page, "next_page_uri": None, "page": 0, "page_size": size}
        )

    def _authorised(self, request: web.Request) -> bool:
        if request.match_info["sid"] != self.account_sid:
            return False
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(
            f"{user}:{password}".encode(), f"{self.account_sid}:{self.auth_token}".encode()
        )

    def _json(self, sms: FakeSms, *, listed: bool = False) -> dict[str, Any]:
        now = format_datetime(sms.created, usegmt=True)
        return {
            "sid": sms.sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "to": sms.to,
            "from": sms.from_,
            "body": sms.body,
            "status": "sent" if listed and not self.queue_texts else "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": now if listed and not self.queue_texts else None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "messaging_service_sid": None,
            "uri": f"{MESSAGES_PATH.format(sid=self.account_sid)[:-5]}/{sms.sid}.json",
        }

    # --- callbacks --------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_callbacks(self, url: str, sid: str) -> None:
        async with aiohttp.ClientSession() as session:
            for callback in self.callbacks:
                await asyncio.sleep(self.callback_delay)
                form, headers = self.signed_callback(url, sid, callback.status, callback.error_code)
                async with session.post(url, data=form, headers=headers) as response:
                    self.callback_responses.append(response.status)


def _listed(sms: FakeSms, query: Mapping[str, str], queued: bool) -> bool:
    """Whether a text passes the list's filters (To, From, DateSent, DateSent>, DateSent<);
    a queued text has no DateSent, so any DateSent filter leaves it out."""
    if "To" in query and query["To"] != sms.to:
        return False
    if "From" in query and query["From"] != sms.from_:
        return False
    if queued and any(key.startswith("DateSent") for key in query):
        return False
    for key, keep in (
        ("DateSent", lambda a, b: a == b),
        ("DateSent>", lambda a, b: a >= b),
        ("DateSent<", lambda a, b: a <= b),
    ):
        if key in query:
            value = query[key]
            if len(value) == 10:  # a day: compare days
                if not keep(sms.created.date(), date.fromisoformat(value)):
                    return False
            elif not keep(sms.created, datetime.fromisoformat(value)):
                return False
    return True


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)


def _failure(failure: Failure) -> web.Response:
    headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
    if failure.garbage:
        return web.Response(
            status=failure.status,
            text="<html>upstream went away</html>",
            content_type="text/html",
            headers=headers,
        )
    response = _error(failure.status, failure.code or failure.status, failure.message)
    if headers:
        response.headers.update(headers)
    return response


class FakeTwilioThread:
    """A :class:`FakeTwilio` on its own event loop in a background thread.

    For tests and benchmarks whose senders are other processes: the test's own loop (or
    none) stays free. Read the ledger with :meth:`ledger`, which copies it; change the fake
    with :meth:`call`, which runs on the fake's loop.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.fake: FakeTwilio | None = None

    def __enter__(self) -> FakeTwilioThread:
        self._thread.start()
        self.fake = self._run(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        try:
            if self.fake is not None:
                self._run(self.fake.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _start(self) -> FakeTwilio:
        return await FakeTwilio(**self._options).start()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    @property
    def url(self) -> str:
        assert self.fake is not None
        return self.fake.url

    def ledger(self) -> list[FakeSms]:
        assert self.fake is not None
        return self._run(self._copy())

    async def _copy(self) -> list[FakeSms]:
        assert self.fake is not None
        return list(self.fake.ledger)

    def call(self, action: Callable[[FakeTwilio], T]) -> T:
        """Run ``action(fake)`` on the fake's loop, between two requests."""
        assert self.fake is not None
        fake = self.fake

        async def run() -> T:
            return action(fake)

        return self._run(run())

    def env(self, from_number: str = "+447700900000") -> dict[str, str]:
        """The settings that send Linkline's SMS here instead of to Twilio."""
        assert self.fake is not None
        return {
            "TWILIO_ACCOUNT_SID": self.fake.account_sid,
            "TWILIO_AUTH_TOKEN": self.fake.auth_token,
            "TWILIO_FROM_NUMBER": from_number,
            "TWILIO_API_BASE_URL": self.fake.url,
        }

"""Text messages through Twilio's REST API, with the async SDK.

Twilio has no idempotency key, so this adapter is careful about the one question that
matters most: did the text go? A refusal before sending (bad number, STOP, rate limit,
outage) is a clear transient or permanent error. A failure *after* the request may have
reached Twilio (a read timeout, a dropped connection, an unreadable 2xx) is neither: it
raises :class:`SendOutcomeUnknown`, which the dispatcher records as uncertain and hands to
a person, because a second copy of a text can hurt as much as a missing one.

Nothing here logs or stores a phone number or a message body.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels.base import (
    ChannelError,
    ChannelLimits,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    Receipt,
    Sought,
    TransientError,
)
from channels.sms_lookup import after_failed_send, search_twilio

# GSM-7 and segments live in sms_text.py, which the staff preview reads without Twilio.
from channels.sms_text import plain_text as plain_text
from channels.sms_text import segments as segments
from store.enums import Channel

log = logging.getLogger(__name__)

MAX_VALIDITY_SECONDS = 36_000  # Twilio's ceiling: a queued text is dropped after 10 hours
REQUEST_TIMEOUT_SECONDS = 20.0
LOOKUP_WAIT_SECONDS = 5.0
CREDENTIALS_HINT = "Twilio refused our credentials: check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN"

# Codes that mean "this number will not get texts from us"; never the person's fault to fix.
# The number itself can never get texts (invalid, landline, not SMS-capable, unroutable).
UNREACHABLE_CODES = frozenset({21211, 21612, 21614, 21635})
# Our Twilio account is not set up for this (region not enabled, trial account): our fault,
# so messages wait for the fix instead of falling back.
ACCOUNT_CODES = {
    21408: "enable sending to this country in the Twilio console",
    21608: "the Twilio account is a trial: upgrade it or verify the number",
}
OPT_OUT_CODE = 21610
RATE_LIMIT_CODE = 20429
# Refusals that pass with time: the sender's queue is full, or its send rate was exceeded.
BUSY_CODES = frozenset({RATE_LIMIT_CODE, 21611, 14107})
AUTH_CODES = frozenset({20003, 20404})
SERVER_ERROR_CODE = 20500  # "Internal server error": Twilio may have queued the text
# HTTP answers to a POST that Twilio (or its edge) may have acted on before failing. 503
# and 429 are refusals before any work, so they stay transient.
MAYBE_PROCESSED_STATUSES = frozenset({500, 502, 504})
# Twilio's edge gave up waiting while Twilio may still be working on the POST: even after
# the wait, finding nothing in its list proves nothing.
GATEWAY_TIMEOUT = 504

# --- configuration and HTTP ------------------------------------------------------------------


@dataclass(frozen=True)
class SmsConfig:
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str
    status_callback_url: str | None = None
    # When set, every request goes to this scheme+host instead (a local fake, a proxy).
    api_base_url: str | None = None
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    # After Twilio fails mid-send, wait this long before asking whether it kept the text.
    lookup_wait: float = LOOKUP_WAIT_SECONDS


class SendOutcomeUnknown(OutcomeUnknown):
    """Twilio may have taken the message: it has no idempotency key to make a retry safe.

    ``answered`` is True when Twilio finished with the request and said it failed (500,
    502): then its message list finding nothing, after a short wait, is conclusive. After
    a 504, a timeout or a dropped connection the request may still be in Twilio's hands.
    """

    def __init__(self, detail: str, *, code: str | None = None, answered: bool = False) -> None:
        super().__init__(detail, code=code)
        self.answered = answered


class LinklineTwilioHttpClient(AsyncTwilioHttpClient):
    """Twilio's aiohttp client with a real timeout, an optional base URL, and Retry-After.

    Twilio's client ignores its own ``timeout`` argument, so the session is built here
    with one, and every request passes it explicitly. A 429 or 503 is turned into a
    :class:`TransientError` here because only here are the response headers (Retry-After)
    still in hand; a 500, 502 or 504 after a POST may have been acted on, so it is
    :class:`SendOutcomeUnknown`.
    """

    def __init__(self, base_url: str | None = None, timeout: float = REQUEST_TIMEOUT_SECONDS):
        super().__init__(pool_connections=False, logger=log)
        self._base = urlsplit(base_url) if base_url else None
        self._timeout = timeout
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - Twilio's signature, passed on
        allow_redirects: bool = False,
    ) -> Response:
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        headers = dict(headers or {})
        if auth is not None:  # aiohttp 3.14 deprecates auth=; send the same header ourselves
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        # The SDK passes timeout=None on every call, and aiohttp reads a per-request None as
        # "no limit at all", overriding the session's timeout: a hung connection would then
        # hold send() (and all sending behind it) for ever. Always pass a real limit.
        limit = timeout if timeout is not None else self._timeout
        response = await super().request(
            method, url, params, data, headers, None, limit, allow_redirects
        )
        status = response.status_code
        if status in MAYBE_PROCESSED_STATUSES and method.upper() != "GET":
            # The POST reached Twilio, which failed while or after handling it: the text
            # may have been queued, and a retry could send it twice.
            raise SendOutcomeUnknown(
                f"Twilio answered HTTP {status}; the message may have been sent",
                code="outcome-unknown",
                answered=status != GATEWAY_TIMEOUT,
            )
        if status == 429 or status >= 500:
            raise TransientError(
                f"Twilio answered HTTP {status}; will try again",
                code=f"http-{status}",
                retry_after=_retry_after(response.headers),
            )
        return response

    @property
    def closed(self) -> bool:
        return self.session is None or self.session.closed

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Twilio formats its request lines even when nobody logs them: only when someone does."""
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request(kwargs)

    def log_response(self, status_code: int, response: Any) -> None:
        """As ``log_request``: the headers are formatted only when they will be logged."""
        if self.logger.isEnabledFor(logging.INFO):
            super().log_response(status_code, response)


def _retry_after(headers: Mapping[str, str] | None) -> timedelta | None:
    """Read Retry-After as seconds (Twilio's form); an HTTP date or nonsense is ignored."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return timedelta(seconds=min(seconds, 3600))


# --- the channel -----------------------------------------------------------------------------


class SmsChannel:
    """The live SMS channel. The Twilio client is built lazily inside the running loop."""

    kind = Channel.SMS
    live = True
    lookup_is_conclusive = False  # no idempotency key at Twilio: search() asks by text instead

    def __init__(
        self,
        config: SmsConfig,
        *,
        now: Callable[[], datetime] | None = None,
        limits: ChannelLimits | None = None,
    ) -> None:
        self.config = config
        self.limits = limits or ChannelLimits(max_body_chars=480)
        self._now = now or (lambda: datetime.now(UTC))
        self._http: LinklineTwilioHttpClient | None = None
        self._client: Client | None = None

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """A text arrives within seconds of being handed over."""
        return send_at

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """Twilio cannot be asked by our key: :meth:`search` asks by number, text and time."""
        return None

    async def search(self, sought: Sought) -> Receipt | None:
        """Twilio's copy of a text we may have sent, or None when it conclusively has none;
        raises :class:`LookupUnanswered` when Twilio cannot say."""
        if not sought.to.strip():
            return None  # nothing can have gone without a number
        client = self._ensure_client()
        return await search_twilio(client, self.config.from_number, plain_text(sought.body), sought)

    async def send(self, message: OutgoingMessage) -> Receipt:
        since = self._now()
        try:
            return await self._send(message)
        except SendOutcomeUnknown as exc:
            sought = Sought(message.idempotency_key, message.to, message.body, since)
            return await after_failed_send(
                self.search, sought, exc, answered=exc.answered, wait=self.config.lookup_wait
            )

    async def _send(self, message: OutgoingMessage) -> Receipt:
        if not message.to.strip():
            raise PermanentError("no phone number to send to")
        params: dict[str, Any] = {
            "to": message.to,
            "from_": self.config.from_number,
            "body": plain_text(message.body),
        }
        if self.config.status_callback_url:
            params["status_callback"] = self.config.status_callback_url
        validity = self._validity_seconds(message.deliver_before)
        if validity is not None:
            params["validity_period"] = validity
        instance = await self._create(params)
        return _receipt(instance)

    def _validity_seconds(self, deliver_before: datetime | None) -> int | None:
        """Seconds left in the safe window, so Twilio drops a text that would arrive late."""
        if deliver_before is None:
            return None
        left = math.floor((deliver_before - self._now()).total_seconds())
        if left < 1:
            raise TransientError("the safe time to text has passed; waiting for the next one")
        return min(left, MAX_VALIDITY_SECONDS)

    async def _create(self, params: dict[str, Any]) -> Any:
        client = self._ensure_client()
        try:
            return await client.messages.create_async(**params)
        except ChannelError:
            raise
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _map_twilio_error(exc.status, exc.code) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection never opened: nothing can have been sent.
            raise TransientError(f"could not reach Twilio ({type(exc).__name__})") from None
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, TypeError, KeyError) as exc:
            raise SendOutcomeUnknown(
                f"no clear answer from Twilio ({type(exc).__name__}); it may have been sent",
                code="outcome-unknown",
            ) from None

    def _ensure_client(self) -> Client:
        if self._client is None:
            self._http = LinklineTwilioHttpClient(
                self.config.api_base_url, self.config.request_timeout
            )
            self._client = Client(
                self.config.account_sid, self.config.auth_token, http_client=self._http
            )
        return self._client

    async def aclose(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None and not http.closed:
            await http.close()
            await asyncio.sleep(0)  # let aiohttp finish closing the connector's transports


def _receipt(instance: Any) -> Receipt:
    """A 2xx without a message id means Twilio may have taken it: never guess."""
    sid = getattr(instance, "sid", None)
    if not isinstance(sid, str) or not sid:
        raise SendOutcomeUnknown(
            "Twilio accepted the request but gave no message id; it may have been sent",
            code="outcome-unknown",
        )
    status = getattr(instance, "status", None)
    return Receipt(provider_id=sid, status=str(status) if status else "queued")


def _map_twilio_error(status: int | None, code: int | None) -> ChannelError:
    """Turn Twilio's refusal into what the dispatcher should do next (no personal data)."""
    label = f"twilio-{code or status}"
    if code == OPT_OUT_CODE:
        return PermanentError(
            "the number replied STOP to our texts",
            code=label,
            opt_out_reason="replied STOP to texts",
        )
    if code in UNREACHABLE_CODES:
        return PermanentError(
            f"Twilio cannot text this number (error {code})",
            code=label,
            opt_out_reason="the number cannot get texts",
        )
    if code in ACCOUNT_CODES:
        return TransientError(f"{ACCOUNT_CODES[code]} (Twilio error {code})", code=label)
    if code in AUTH_CODES or status in (401, 403):
        return TransientError(CREDENTIALS_HINT, code=label)
    if code == SERVER_ERROR_CODE or status in MAYBE_PROCESSED_STATUSES:
        return SendOutcomeUnknown(
            f"Twilio failed while handling the message (error {code or status}); "
            "it may have been sent",
            code="outcome-unknown",
            answered=status != GATEWAY_TIMEOUT,
        )
    if code in BUSY_CODES or status == 429 or (status is not None and status >= 500):
        return TransientError(f"Twilio is busy (error {code or status})", code=label)
    # Twilio's own codes have five digits; an unreadable error page carries only the status.
    if code is not None and code >= 10_000 and status is not None and 400 <= status < 500:
        # Twilio read the request and refused this message (body too long or empty, a
        # number it cannot send from or to): the same text will never go through.
        return PermanentError(f"Twilio refused the message (error {code})", code=label)
    return TransientError(f"Twilio refused the message (HTTP {status}, error {code})", code=label)

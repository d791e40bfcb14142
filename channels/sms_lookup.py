"""Asking Twilio whether it already has a text, when it cannot be asked by our key.

Twilio has no idempotency key, but its Messages list can be filtered by ``To``, ``From``
and ``DateSent``. A text of ours is the one to the same number, from our number, whose
body has the same hash, created no earlier than the attempt started (less a little clock
skew). Texts Twilio still holds in its queue have no ``DateSent`` yet, so the most recent
texts to the number are read too. An answer is conclusive only when both reads worked;
anything else is :class:`LookupUnanswered`, and nothing is sent again.

Nothing here logs a phone number or a body; bodies are compared by hash only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client

from channels.base import (
    ChannelError,
    LookupUnanswered,
    OutcomeUnknown,
    Receipt,
    Sought,
    TransientError,
)

log = logging.getLogger(__name__)

# Our clock and Twilio's may disagree by this much; a copy made earlier is not ours.
CLOCK_SKEW = timedelta(minutes=2)
# Texts Twilio has taken but not yet sent carry no DateSent: read this many recent ones.
RECENT_UNSENT = 20
MAX_LISTED = 200  # more matches than this in a few minutes is not a send of ours
UNSENT_STATUSES = frozenset({"accepted", "queued", "scheduled", "sending"})


def body_hash(body: str) -> str:
    """What a text is compared by, so a body is never held longer than the comparison."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def search_twilio(
    client: Client, from_number: str, sent_body: str, sought: Sought
) -> Receipt | None:
    """Twilio's copy of ``sought`` (whose body, as sent, is ``sent_body``), or None when
    Twilio answered and has none; raises :class:`LookupUnanswered` when it cannot say."""
    since = sought.since - CLOCK_SKEW
    wanted = body_hash(sent_body)
    try:
        sent = await client.messages.list_async(
            to=sought.to, from_=from_number, date_sent_after=since, limit=MAX_LISTED
        )
        recent = await client.messages.list_async(
            to=sought.to, from_=from_number, limit=RECENT_UNSENT
        )
    except ChannelError as exc:
        raise LookupUnanswered(f"Twilio's message list failed: {exc.detail}") from None
    except (TwilioRestException, TwilioServiceException) as exc:
        raise LookupUnanswered(f"Twilio's message list failed (error {exc.code})") from None
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError, TypeError, KeyError) as exc:
        raise LookupUnanswered(
            f"no clear answer from Twilio's list ({type(exc).__name__})"
        ) from None
    waiting = (m for m in recent if str(getattr(m, "status", "")) in UNSENT_STATUSES)
    found = _match([*sent, *waiting], wanted, since)
    if found is None:
        return None
    return Receipt(provider_id=found.sid, status=str(found.status or "queued"))


async def after_failed_send(
    search: Callable[[Sought], Awaitable[Receipt | None]],
    sought: Sought,
    unknown: OutcomeUnknown,
    *,
    answered: bool,
    wait: float,
) -> Receipt:
    """Ask Twilio, after a short wait, whether it kept the text a POST failed on: a retry of
    the question, never of the send. Found is sent; a conclusive "not there" after Twilio
    answered 5xx may be sent again later (TransientError); after a timeout, or when the list
    cannot say, the text stays uncertain (``unknown`` is raised) for a person."""
    await asyncio.sleep(wait)
    try:
        found = await search(sought)
    except LookupUnanswered as exc:
        log.warning("Twilio could not say whether a text went: %s", exc.detail)
        raise unknown from None
    if found is not None:
        log.warning("Twilio failed mid-send but has the text: counted as sent")
        return found
    if not answered:
        raise unknown  # the request may still be in Twilio's hands
    log.warning("Twilio failed mid-send and has no copy of the text: it will be tried again")
    raise TransientError(
        f"{unknown.detail.split(';')[0]}, and has no copy of the text; will try again",
        code="twilio-failed-not-kept",
    ) from None


def _match(listed: Iterable[Any], wanted: str, since: datetime) -> Any | None:
    """The earliest listed text with this body made since the attempt began."""
    candidates: list[tuple[datetime, Any]] = []
    for message in listed:
        made = _made(message)
        body = getattr(message, "body", None)
        if made is None or made < since or not isinstance(body, str):
            continue
        if isinstance(getattr(message, "sid", None), str) and body_hash(body) == wanted:
            candidates.append((made, message))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _made(message: Any) -> datetime | None:
    """When Twilio sent it, or (still queued) when Twilio took it."""
    value = getattr(message, "date_sent", None) or getattr(message, "date_created", None)
    return value if isinstance(value, datetime) else None

"""Signed inbound-SMS webhooks per second, and their latency, against a bare endpoint.

The real app (``create_web_app``, scheduler and all: signature check, parsing, the
listening rules, the reply stored, TwiML back) is served by uvicorn in its own process on
127.0.0.1, as ``linkline run`` serves it. A few hundred experts with SMS numbers are
seeded, each with a question already sent (a pre-brief or a check-in), and their texts are
posted as Twilio would: form-encoded, signed with X-Twilio-Signature for the public URL,
each with a new MessageSid, mixing "yes" (answers the invitation), "3" (a check-in score)
and free text (filed for the link worker). Every answer must be a 200 with TwiML, and
every text must end up stored once; anything else is counted as an error (exit status 1).

The floor is a FastAPI endpoint that does no work, served by uvicorn the same way and sent
the same requests: what the framework, the server and this client cost on their own. At
high concurrency the floor is bound by the client (httpx), not the server.

    .venv/bin/python benchmarks/webhooks.py [--requests 1000] [--concurrency 16]
        [--experts 300] [--mix yes=40,score=30,free=30] [--database-url URL] [--json]

The client is httpx.AsyncClient with a pool of ``--concurrency`` keep-alive connections, in
this process; the server runs in a process of its own. "srv CPU" is that process's user +
system time (all its threads) over the timed requests, per request. With
``--database-url``, that PostgreSQL database is emptied before and after. Traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from benchmarks.common import clean_environ, scratch_app
from benchmarks.webhook_servers import start_child, wait_ready
from bot.bootstrap import App
from bot.web.webhooks.twilio_sms import PATH
from store.enums import Channel, InvitationAnswer, MessageStatus, Purpose
from store.models import Invitation, Message, Reply
from tests.load import (
    add_due_messages,
    add_sms_experts,
    phone_for,
    scratch_settings,
)

PUBLIC = "https://linkline.example.org"
AUTH_TOKEN = "bench-twilio-auth-token-0123456789"
ACCOUNT_SID = "AC" + "b" * 32
OUR_NUMBER = "+447700900000"
PER_ENGAGEMENT = 30
KINDS = ("yes", "score", "free")
DEFAULT_MIX = "yes=40,score=30,free=30"
WARMUP = 50  # requests before the timed ones: connections opened, caches warm
FREE_TEXT = (
    "Running a bit late, sorry",
    "Can we talk on Friday about the travel money?",
    "Thanks Sam, see you there",
    "Is there parking near the venue?",
    "I might bring my daughter if that's ok",
)


# --- seeding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    invited: list[str]  # numbers whose latest question was a pre-brief ("yes" answers it)
    checked_in: list[str]  # numbers whose latest question was a check-in ("3" answers it)


async def seed(app: App, experts: int) -> Seeded:
    """Experts reachable by SMS, invited in groups of 30 (an engagement's usual size), each
    with one question already sent: a pre-brief, or (every other one) a check-in. Those
    asked the pre-brief have not answered yet, so each one's first "yes" is a real answer
    that re-plans their part of the engagement; a later "yes" from them is a repeat."""
    message_ids: list[int] = []
    for first in range(0, experts, PER_ENGAGEMENT):
        size = min(PER_ENGAGEMENT, experts - first)
        engagement_id, expert_ids = await add_sms_experts(app, size, first=first)
        message_ids += await add_due_messages(app, engagement_id, expert_ids)
    sent_at = app.clock.now()
    check_ins = message_ids[1::2]
    async with app.sessions.begin() as session:
        await session.execute(
            update(Message)
            .where(Message.id.in_(message_ids))
            .values(status=MessageStatus.SENT, channel=Channel.SMS, sent_at=sent_at, attempts=1)
        )
        await session.execute(
            update(Message).where(Message.id.in_(check_ins)).values(purpose=Purpose.CHECK_IN)
        )
        asked = select(Message.expert_id).where(Message.id.in_(message_ids[0::2]))
        await session.execute(
            update(Invitation)
            .where(Invitation.expert_id.in_(asked))
            .values(answer=InvitationAnswer.PENDING, answered_at=None)
        )
    numbers = [phone_for(n) for n in range(experts)]
    return Seeded(invited=numbers[0::2], checked_in=numbers[1::2])


def parse_mix(text: str) -> dict[str, float]:
    """ "yes=40,score=30,free=30" as weights; an unnamed kind weighs 0."""
    weights = dict.fromkeys(KINDS, 0.0)
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in weights:
            raise argparse.ArgumentTypeError(f"--mix knows {', '.join(KINDS)}, not {name!r}")
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--mix: {part!r} needs a number") from None
    if min(weights.values()) < 0 or not sum(weights.values()):
        raise argparse.ArgumentTypeError("--mix: weights must be positive, not all 0")
    return weights


def signed_requests(
    seeded: Seeded, count: int, mix: dict[str, float], seed: int
) -> list[tuple[bytes, str]]:
    """(form body, signature) for each text, kinds drawn by the weights of ``mix``."""
    rng = random.Random(seed)
    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC + PATH
    everyone = seeded.invited + seeded.checked_in
    requests = []
    kinds = rng.choices(list(mix), weights=list(mix.values()), k=count)
    for n, kind in enumerate(kinds):
        if kind == "yes":  # to someone whose latest question was the pre-brief
            sender, body = rng.choice(seeded.invited), rng.choice(("yes", "Yes!", "yes please"))
        elif kind == "score":  # to someone whose latest question was a check-in
            sender, body = rng.choice(seeded.checked_in), "3"
        else:
            sender, body = rng.choice(everyone), rng.choice(FREE_TEXT)
        params = {
            "ToCountry": "GB",
            "SmsMessageSid": f"SM{n:032x}",
            "NumMedia": "0",
            "SmsSid": f"SM{n:032x}",
            "SmsStatus": "received",
            "Body": body,
            "To": OUR_NUMBER,
            "NumSegments": "1",
            "MessageSid": f"SM{n:032x}",
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "FromCountry": "GB",
            "ApiVersion": "2010-04-01",
        }
        form = str(httpx.QueryParams(params)).encode()
        requests.append((form, validator.compute_signature(url, params)))
    return requests


# --- the load ------------------------------------------------------------------------------


@dataclass
class Figures:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    server_cpu_s: float
    first_error: str | None = None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "per_s": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2),
            "server_cpu_ms_per_request": round(1000 * self.server_cpu_s / self.requests, 2),
            "errors": self.errors,
        }


async def hammer(
    client: httpx.AsyncClient, requests: list[tuple[bytes, str]], concurrency: int
) -> tuple[float, list[float], int, str | None]:
    """Post every request, ``concurrency`` at a time: (seconds, latencies, errors, first)."""
    queue = iter(requests)
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None

    async def one_lane() -> None:
        nonlocal errors, first_error
        for form, signature in queue:  # the lanes share one iterator
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            }
            began = time.perf_counter()
            try:
                response = await client.post(PATH, content=form, headers=headers)
            except httpx.TransportError as exc:
                problem: str | None = f"{type(exc).__name__}: {exc}"
            else:
                ok = response.status_code == 200 and b"<Response" in response.content
                problem = None if ok else f"{response.status_code}: {response.text[:200]}"
            latencies.append((time.perf_counter() - began) * 1000)
            if problem is not None:
                errors += 1
                first_error = first_error or problem

    began = time.perf_counter()
    await asyncio.gather(*(one_lane() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies, errors, first_error


async def measure(
    which: str,
    folder: str,
    env: dict[str, str],
    warmup: list[tuple[bytes, str]],
    timed: list[tuple[bytes, str]],
    concurrency: int,
) -> Figures:
    child = start_child(which, folder, env)
    try:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{child.port}", limits=limits, timeout=60
        ) as client:
            await wait_ready(child, client)
            _, _, warm_errors, warm_first = await hammer(client, warmup, concurrency)
            cpu_before = child.cpu_seconds()
            seconds, latencies, errors, first = await hammer(client, timed, concurrency)
            cpu = child.cpu_seconds() - cpu_before
            errors, first = errors + warm_errors, first or warm_first  # a failure is a failure
    finally:
        child.stop()
    if errors:
        first = f"{first}\n--- {which} server log (tail) ---\n{child.log.read_text()[-3000:]}"
    return Figures(len(timed), seconds, latencies, errors, cpu, first)


# --- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(
            folder, args.database_url, public_url=PUBLIC, twilio_auth_token=AUTH_TOKEN
        )
        async with scratch_app(settings, args.database_url) as app:
            seeded = await seed(app, args.experts)
            requests = signed_requests(seeded, WARMUP + args.requests, args.mix, args.seed)
            warmup, timed = requests[:WARMUP], requests[WARMUP:]
            assert settings.secret_key is not None
            env = {
                **clean_environ(),
                "DATABASE_URL": settings.resolved_database_url,
                "LINKLINE_SECRET_KEY": settings.secret_key.get_secret_value(),
                "LINKLINE_DATA_DIR": folder,
                "LINKLINE_PUBLIC_URL": PUBLIC,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            }
            ours = await measure("linkline", folder, env, warmup, timed, args.concurrency)
            async with app.sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(Reply)) or 0
            floor = await measure("floor", folder, env, warmup, timed, args.concurrency)
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    return {
        "database": database,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "experts": args.experts,
        "mix": args.mix,
        "linkline": {**ours.as_dict(), "replies_stored": stored},
        "floor": floor.as_dict(),
        "first_error": ours.first_error or floor.first_error,
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"Signed inbound SMS webhooks: {result['requests']} timed requests (after {WARMUP} "
        f"warm-up), {result['concurrency']} concurrent, {result['experts']} experts, "
        f"{result['database']}"
    )
    mix = result["mix"]
    total = sum(mix.values())
    print("texts: " + ", ".join(f"{k} {100 * w / total:.0f} %" for k, w in mix.items()))
    header = f"{'endpoint':<38}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'srv CPU ms/req':>16}{'errors':>8}")
    rows = [
        ("Linkline POST /webhooks/twilio/sms", result["linkline"]),
        ("bare FastAPI endpoint (floor)", result["floor"]),
    ]
    for name, figures in rows:
        print(
            f"{name:<38}{figures['per_s']:>8.0f}{figures['p50_ms']:>9.1f}"
            f"{figures['p99_ms']:>9.1f}{figures['server_cpu_ms_per_request']:>16.2f}"
            f"{figures['errors']:>8}"
        )
    expected = WARMUP + result["requests"]
    print(f"replies stored: {result['linkline']['replies_stored']} of {expected} texts sent")
    if result["first_error"]:
        print(f"first error: {result['first_error']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Serves on 127.0.0.1 only; PostgreSQL databases given are emptied.",
    )
    parser.add_argument("--requests", type=int, default=1000, help="timed requests (1000)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="requests in flight at once (16)"
    )
    parser.add_argument("--experts", type=int, default=300, help="experts texting in (300)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL of a scratch database (emptied); default a temporary SQLite file",
    )
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=DEFAULT_MIX,
        help=f'weights of the texts: yes (answers a pre-brief), score ("3" after a '
        f"check-in), free (free text) ({DEFAULT_MIX})",
    )
    parser.add_argument("--seed", type=int, default=1, help="for the mix of texts (1)")
    parser.add_argument("--json", action="store_true", help="print one JSON line, not a table")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.experts < 2:
        parser.error("--requests and --concurrency must be at least 1, --experts at least 2")
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print_table(result)
    lost = WARMUP + result["requests"] - result["linkline"]["replies_stored"]
    if lost:  # answered 200 but not kept: the provider would never send it again
        print(f"{lost} replies were answered but not stored", file=sys.stderr)
    if result["linkline"]["errors"] or result["floor"]["errors"] or lost:
        sys.exit(1)


if __name__ == "__main__":
    main()

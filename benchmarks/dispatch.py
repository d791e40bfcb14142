"""Messages per second through each channel, and due-to-sent lag with several workers.

Throughput (the default): for every channel, one JSON line with the rate through the whole
Linkline path (claim, rules, routing, rendering, attempt recorded before the call,
provider call through the real SDK, result recorded) next to a bare SDK loop to the same
fake with no Linkline code in between (the floor).

    .venv/bin/python benchmarks/dispatch.py [--messages 300] [--letters 30] [--database-url URL]

Each run checks that every message reached the fake provider exactly once and is stored as
sent with one accepted try; otherwise it exits with the reason (status 1). It never fails on
speed. ``--quick`` runs small counts, so CI can run it on every change.

Telegram is paced by our own limiter at 30 messages a second (Telegram's own limit), so
its Linkline figure is capped by design; the bare loop is not.

Lag (``--lag``): SMS messages become due at a steady rate while real `linkline worker`
processes send them to the fake Twilio. One JSON line per configuration: p50 and p99 of
(when the provider's answer was recorded) - (when the message was due), with 1, 2 and 4
workers on PostgreSQL (``--database-url``) and 1 on SQLite, which runs one by design.

    .venv/bin/python benchmarks/dispatch.py --lag [--rate 20] [--duration 20] [--database-url URL]

(The lag mode is in benchmarks/dispatch_lag.py.)

Both modes empty the PostgreSQL database they are given. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from sqlalchemy import delete, func, select, update
from telegram import Bot
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from weasyprint import HTML

from benchmarks.common import scratch_app
from benchmarks.dispatch_lag import lag_main, worker_counts
from bot.bootstrap import App, freeze_start_up
from bot.services.engagements import lifecycle as engagement_service
from bot.services.experts.details import ExpertInput
from bot.services.experts.profile import create_expert
from bot.services.staff.accounts import create_staff
from channels.base import MessageChannel
from channels.letter import LetterChannel, LetterConfig
from channels.mail import EmailChannel, EmailConfig
from channels.registry import ChannelRegistry
from channels.sms import SmsChannel, SmsConfig
from channels.telegram import TelegramChannel, TelegramConfig
from scheduling.clock import SimulatedClock
from store.enums import AttemptOutcome, MessageStatus, Purpose, Role
from store.models import DeliveryAttempt, Message
from tests.builders import FULL_DETAILS
from tests.fakes.smtp import FakeSMTPServer
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.load import scratch_settings

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday morning: inside default safe hours


def _address(channel: str, i: int) -> dict[str, Any]:
    return {
        "sms": {"phone": f"+4471234{i:05d}"},
        "telegram": {"telegram_chat_id": str(7_000_000 + i)},
        "email": {"email": f"person{i}@example.net"},
        "letter": {"postal_address": f"Flat {i}; 8 Sample Road; Dundee DD1 1AA"},
    }[channel]


async def _seed(app: App, channel: str, count: int) -> None:
    """``count`` experts on one channel, each with one pre-brief due now."""
    now = app.clock.now()
    async with app.sessions.begin() as session:
        staff = await create_staff(
            session,
            name="Sam Taylor",
            email="sam@example.org",
            role=Role.LINK_WORKER,
            now=now,
            actor="bench",
        )
        experts = []
        for i in range(count):
            data = ExpertInput.model_validate(
                {
                    "preferred_name": f"Person {i}",
                    "link_worker": staff.email,
                    "preferred_channel": channel,
                    **_address(channel, i),
                    "consent": {channel: {"allowed": True}},
                    "consent_confirmed_on": date(2026, 1, 5),
                    "consent_confirmed_by": staff.email,
                }
            )
            experts.append(await create_expert(session, app.cipher, data, actor="bench", now=now))
        start = now + timedelta(days=14)
        engagement = await engagement_service.create_engagement(
            session,
            title="Benchmark",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            lead=staff,
            details=FULL_DETAILS,
            plan_overrides=None,
            base_offsets=app.offsets,
            time_zone=app.settings.default_time_zone,
            now=now,
            actor="bench",
        )
        await engagement_service.publish(session, engagement, app.offsets, now=now, actor="bench")
        await engagement_service.invite(
            session, engagement, experts, app.offsets, now=now, actor="bench"
        )
        await session.execute(delete(Message).where(Message.purpose != Purpose.PRE_BRIEF))
        await session.execute(update(Message).values(due_at=now, next_attempt_at=now))


async def _through_linkline(
    database_url: str | None,
    channel: str,
    count: int,
    make: Callable[[], MessageChannel],
    received: Callable[[], list[str]],
) -> Rate:
    """Messages per second through Linkline; exits with a reason if any message was lost,
    sent twice or not stored as sent (never because of speed)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder, database_url, dispatch_batch_size=50)
        async with scratch_app(settings, database_url, clock=SimulatedClock(NOW)) as app:
            await _seed(app, channel, count)
            app.channels = ChannelRegistry([make()])
            freeze_start_up()  # as `linkline worker` does once it is built
            began, cpu = time.perf_counter(), time.process_time()
            sent = await app.dispatcher().run_until_idle(max_batches=10_000)
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
            await app.channels.aclose()
            stored = await _stored(app)
    problems = []
    if sent != count:
        problems.append(f"expected {count} messages, dispatched {sent}")
    if stored != {"sent": count, "accepted tries": count}:
        problems.append(f"expected {count} sent and stored, found {stored}")
    recipients = received()
    if len(recipients) != count or len(set(recipients)) != count:
        lost, twice = count - len(set(recipients)), len(recipients) - len(set(recipients))
        problems.append(f"the provider has {lost} lost and {twice} duplicated")
    if problems:
        raise SystemExit(f"{channel}: " + "; ".join(problems))
    return Rate(count / elapsed, cpu * 1000 / count)


async def _stored(app: App) -> dict[str, int]:
    """How many messages the database says were sent, and how many tries were accepted."""
    async with app.sessions() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Message).where(Message.status == MessageStatus.SENT)
        )
        accepted = await session.scalar(
            select(func.count())
            .select_from(DeliveryAttempt)
            .where(DeliveryAttempt.outcome == AttemptOutcome.ACCEPTED)
        )
    return {"sent": int(sent or 0), "accepted tries": int(accepted or 0)}


@dataclass(frozen=True)
class Rate:
    """Messages a second, and this process's CPU per message (every thread: the database's,
    the in-process fakes'): on a shared machine the CPU figure moves far less than the rate."""

    per_s: float
    cpu_ms: float


def _figures(ours: Rate, floor: Rate) -> dict[str, Any]:
    return {
        "linkline_per_s": ours.per_s,
        "bare_sdk_per_s": floor.per_s,
        "ratio": ours.per_s / floor.per_s,
        "linkline_cpu_ms_per_msg": ours.cpu_ms,
        "bare_cpu_ms_per_msg": floor.cpu_ms,
    }


async def _timed(count: int, one: Callable[[int], Awaitable[object]]) -> Rate:
    began, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        await one(i)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return Rate(count / elapsed, cpu * 1000 / count)


class _ToFake(AsyncTwilioHttpClient):
    """The documented way to aim the SDK elsewhere: swap the host on every request."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = urlsplit(base)

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        local = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return await super().request(method, local, *args, **kwargs)


async def bench_sms(db: str | None, count: int) -> dict[str, Any]:
    fake = await FakeTwilio().start()
    try:
        config = SmsConfig(
            fake.account_sid, fake.auth_token, "+447700900000", api_base_url=fake.url
        )
        ours = await _through_linkline(
            db,
            "sms",
            count,
            lambda: SmsChannel(config, now=lambda: NOW),
            lambda: [sms.to for sms in fake.ledger],
        )
        http = _ToFake(fake.url)
        client = Client(fake.account_sid, fake.auth_token, http_client=http)
        floor = await _timed(
            count,
            lambda i: client.messages.create_async(
                to=f"+4471234{i:05d}", from_="+447700900000", body="Hi, a note from Sam."
            ),
        )
        await http.close()
    finally:
        await fake.close()
    return _figures(ours, floor)


async def bench_telegram(db: str | None, count: int) -> dict[str, Any]:
    """The fake holds Telegram's limits for Linkline (30 a second for the bot, one a second
    per chat) and says how often it had to answer 429; the bare loop runs unlimited."""
    async with FakeTelegram(strict_spacing=True, overall_per_second=30) as fake:
        config = TelegramConfig(bot_token=DEFAULT_TOKEN, base_url=fake.url + "/bot")
        ours = await _through_linkline(
            db,
            "telegram",
            count,
            lambda: TelegramChannel(config, now=lambda: NOW),
            lambda: [sent.chat_id for sent in fake.ledger],
        )
        refused = fake.too_many_requests
        fake.strict_spacing, fake.overall_per_second = False, None
        async with Bot(DEFAULT_TOKEN, base_url=fake.url + "/bot") as bot:
            floor = await _timed(count, lambda i: bot.send_message(7_000_000 + i, "Hi from Sam."))
    return {**_figures(ours, floor), "linkline_limited_to_per_s": 30, "fake_http_429": refused}


async def bench_email(db: str | None, count: int) -> dict[str, Any]:
    server = FakeSMTPServer().start()
    try:
        config = EmailConfig(
            host=server.host,
            port=server.port,
            from_address="sam@example.org",
            start_tls=False,
            timeout=10,
        )
        ours = await _through_linkline(
            db,
            "email",
            count,
            lambda: EmailChannel(config, clock=lambda: NOW),
            lambda: [",".join(mail.rcpt_tos) for mail in server.deliveries()],
        )

        async def one(i: int) -> object:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = (
                "sam@example.org",
                f"p{i}@example.net",
                "A note",
            )
            msg.set_content("Hi, a note from Sam.")
            return await aiosmtplib.send(
                msg, hostname=server.host, port=server.port, start_tls=False, timeout=10
            )

        floor = await _timed(count, one)
    finally:
        server.stop()
    return _figures(ours, floor)


async def bench_letter(db: str | None, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        config = LetterConfig(folder=Path(folder) / "letters", time_zone="Europe/London")
        letters = Path(folder) / "letters"
        ours = await _through_linkline(
            db,
            "letter",
            count,
            lambda: LetterChannel(config, clock=lambda: NOW),
            lambda: [p.name for p in letters.rglob("*.pdf")],
        )
        page = "<html lang='en'><title>Letter</title><p>Dear Ana,</p><p>A note from Sam.</p>"
        floor = await _timed(
            count,
            lambda i: asyncio.to_thread(
                HTML(string=page).write_pdf, Path(folder) / f"bare{i}.pdf", pdf_variant="pdf/ua-1"
            ),
        )
    return _figures(ours, floor)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="per channel (not letters)")
    parser.add_argument("--letters", type=int, default=30, help="letters (PDFs are slow)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; default SQLite")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small counts (20 messages, 2 letters; with --lag 2 s at 10 a second), for CI",
    )
    lag = parser.add_argument_group("due-to-sent lag (--lag)")
    lag.add_argument("--lag", action="store_true", help="measure lag with worker processes")
    lag.add_argument("--rate", type=float, default=20.0, help="messages due per second")
    lag.add_argument("--duration", type=float, default=20.0, help="seconds of feeding")
    lag.add_argument(
        "--workers", type=worker_counts, default=[1, 2, 4], help="PostgreSQL worker counts"
    )
    lag.add_argument(
        "--interval", type=float, default=1.0, help="LINKLINE_DISPATCH_INTERVAL_SECONDS"
    )
    lag.add_argument("--latency", type=float, default=0.05, help="the fake Twilio's answer time")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.letters, args.rate, args.duration = 20, 2, 10.0, 2.0
    if args.lag:
        if args.rate <= 0 or args.duration <= 0 or args.rate * args.duration > 90_000:
            parser.error("--rate and --duration must be positive, with at most 90,000 messages")
        if not 0 < args.interval <= 300 or args.latency < 0:
            parser.error("--interval must be in (0, 300] and --latency at least 0")
        await lag_main(args)
        return
    if args.messages < 1 or args.letters < 1:
        parser.error("--messages and --letters must be at least 1")
    database = "postgresql" if args.database_url else "sqlite"
    runs = [
        ("sms", bench_sms, args.messages),
        ("telegram", bench_telegram, args.messages),
        ("email", bench_email, args.messages),
        ("letter", bench_letter, args.letters),
    ]
    for name, bench, count in runs:
        result = await bench(args.database_url, count)
        figures = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
        print(
            json.dumps({"channel": name, "database": database, "messages": count, **figures}),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())

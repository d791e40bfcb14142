"""Messages per second through each channel, and due-to-sent lag with several workers.

Throughput (the default): for every channel, one JSON line with the rate through the whole
Linkline path (claim, rules, routing, rendering, attempt recorded before the call,
provider call through the real SDK, result recorded) next to a bare SDK loop to the same
fake with no Linkline code in between (the floor).

    .venv/bin/python benchmarks/dispatch.py [--messages 300] [--letters 30] [--database-url URL]

Telegram is paced by our own limiter at 30 messages a second (Telegram's own limit), so
its Linkline figure is capped by design; the bare loop is not.

Lag (``--lag``): SMS messages become due at a steady rate while real `linkline worker`
processes send them to the fake Twilio. One JSON line per configuration: p50 and p99 of
(when the provider's answer was recorded) - (when the message was due), with 1, 2 and 4
workers on PostgreSQL (``--database-url``) and 1 on SQLite, which runs one by design.

    .venv/bin/python benchmarks/dispatch.py --lag [--rate 20] [--duration 20] [--database-url URL]

Both modes empty the PostgreSQL database they are given. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402
from telegram import Bot  # noqa: E402
from twilio.http.async_http_client import AsyncTwilioHttpClient  # noqa: E402
from twilio.rest import Client  # noqa: E402
from weasyprint import HTML  # noqa: E402

from bot.bootstrap import App, build_app  # noqa: E402
from bot.cli.worker_lock import SEVERAL_WORKERS_HINT  # noqa: E402
from bot.services.engagements import lifecycle as engagement_service  # noqa: E402
from bot.services.experts.details import ExpertInput  # noqa: E402
from bot.services.experts.profile import create_expert  # noqa: E402
from bot.services.staff.accounts import create_staff  # noqa: E402
from bot.settings import Settings  # noqa: E402
from channels.base import MessageChannel  # noqa: E402
from channels.letter import LetterChannel, LetterConfig  # noqa: E402
from channels.mail import EmailChannel, EmailConfig  # noqa: E402
from channels.registry import ChannelRegistry  # noqa: E402
from channels.sms import SmsChannel, SmsConfig  # noqa: E402
from channels.telegram import TelegramChannel, TelegramConfig  # noqa: E402
from scheduling.clock import SimulatedClock  # noqa: E402
from store.crypto import generate_secret_key  # noqa: E402
from store.enums import AttemptOutcome, MessageStatus, Purpose, Role  # noqa: E402
from store.models import DeliveryAttempt, Message  # noqa: E402
from tests.builders import FULL_DETAILS  # noqa: E402
from tests.fakes.smtp import FakeSMTPServer  # noqa: E402
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402
from tests.fakes.twilio import FakeTwilio, FakeTwilioThread  # noqa: E402
from tests.load import (  # noqa: E402
    add_due_messages,
    add_sms_experts,
    empty_database,
    forget_key,
    scratch_settings,
)

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
            time_zone="Europe/London",
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
    database_url: str | None, channel: str, count: int, make: Callable[[], MessageChannel]
) -> float:
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder, database_url, dispatch_batch_size=50)
        if database_url:
            await forget_key(database_url)
        app = await build_app(settings, clock=SimulatedClock(NOW), upgrade=True)
        try:
            if database_url:
                await empty_database(app.engine)
            await _seed(app, channel, count)
            app.channels = ChannelRegistry([make()])
            began = time.perf_counter()
            sent = await app.dispatcher().run_until_idle(max_batches=10_000)
            elapsed = time.perf_counter() - began
            await app.channels.aclose()
            if database_url:
                await empty_database(app.engine)
        finally:
            await app.aclose()
    if sent != count:
        raise SystemExit(f"{channel}: expected {count} messages, dispatched {sent}")
    return count / elapsed


async def _timed(count: int, one: Callable[[int], Awaitable[object]]) -> float:
    began = time.perf_counter()
    for i in range(count):
        await one(i)
    return count / (time.perf_counter() - began)


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
            db, "sms", count, lambda: SmsChannel(config, now=lambda: NOW)
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
    return {"linkline_per_s": ours, "bare_sdk_per_s": floor}


async def bench_telegram(db: str | None, count: int) -> dict[str, Any]:
    async with FakeTelegram() as fake:
        config = TelegramConfig(bot_token=DEFAULT_TOKEN, base_url=fake.url + "/bot")
        ours = await _through_linkline(
            db, "telegram", count, lambda: TelegramChannel(config, now=lambda: NOW)
        )
        async with Bot(DEFAULT_TOKEN, base_url=fake.url + "/bot") as bot:
            floor = await _timed(count, lambda i: bot.send_message(7_000_000 + i, "Hi from Sam."))
    return {"linkline_per_s": ours, "bare_sdk_per_s": floor, "linkline_limited_to_per_s": 30}


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
            db, "email", count, lambda: EmailChannel(config, clock=lambda: NOW)
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
    return {"linkline_per_s": ours, "bare_sdk_per_s": floor}


async def bench_letter(db: str | None, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        config = LetterConfig(folder=Path(folder) / "letters", time_zone="Europe/London")
        ours = await _through_linkline(
            db, "letter", count, lambda: LetterChannel(config, clock=lambda: NOW)
        )
        page = "<html lang='en'><title>Letter</title><p>Dear Ana,</p><p>A note from Sam.</p>"
        floor = await _timed(
            count,
            lambda i: asyncio.to_thread(
                HTML(string=page).write_pdf, Path(folder) / f"bare{i}.pdf", pdf_variant="pdf/ua-1"
            ),
        )
    return {"linkline_per_s": ours, "bare_sdk_per_s": floor}


# --- due-to-sent lag with several worker processes -----------------------------------------


async def bench_lag(
    database_url: str | None, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Feed SMS messages at a steady rate to ``workers`` real `linkline worker` processes."""
    with tempfile.TemporaryDirectory() as folder:
        secret = generate_secret_key()
        url = database_url or f"sqlite:///{folder}/bench.db"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(folder),
            secret_key=secret,
            database_url=url,
        )
        if database_url:
            await forget_key(database_url)
        app = await build_app(settings, upgrade=True)
        try:
            if database_url:
                await empty_database(app.engine)
            total = round(args.rate * args.duration)
            engagement_id, expert_ids = await add_sms_experts(app, total)
            with FakeTwilioThread(latency=args.latency) as twilio:
                env = {
                    **_clean_environ(),
                    "PYTHONPATH": os.pathsep.join(
                        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
                    ),
                    "DATABASE_URL": url,
                    "LINKLINE_SECRET_KEY": secret,
                    "LINKLINE_DATA_DIR": folder,
                    "LINKLINE_DISPATCH_INTERVAL_SECONDS": str(args.interval),
                    **twilio.env(),
                }
                processes = [_start_worker(env, Path(folder), n) for n in range(workers)]
                try:
                    await _wait_started(processes)
                    fed = await _feed(app, engagement_id, expert_ids, args.rate)
                    await _wait_settled(app, processes, within=args.duration * 10 + 60)
                finally:
                    for process, _ in processes:
                        if process.poll() is None:
                            process.send_signal(signal.SIGTERM)
                    for process, _ in processes:
                        process.wait(60)
            figures = await _lag_figures(app)
            if database_url:
                await empty_database(app.engine)
        finally:
            await app.aclose()
    return {**figures, "fed_per_s": fed}


def _clean_environ() -> dict[str, str]:
    """This environment without Linkline's or providers' settings: the run is reproducible,
    and a developer's real credentials are never used."""
    ours = ("LINKLINE_", "TWILIO_", "TELEGRAM_", "SMTP_", "DATABASE_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(ours)}


def _start_worker(
    env: dict[str, str], folder: Path, n: int
) -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / f"worker-{n}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=env,
            cwd=folder,  # never a developer's .env
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return process, log


async def _wait_started(processes: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    """Until every worker says it is sending, so start-up is not counted as lag."""
    deadline = time.monotonic() + 60
    while not all(b"Sending what is due" in log.read_bytes() for _, log in processes):
        for process, log in processes:
            if process.poll() is not None:
                raise SystemExit(f"a worker stopped at start:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start within 60s")
        await asyncio.sleep(0.1)


async def _feed(app: App, engagement_id: int, expert_ids: list[int], rate: float) -> float:
    """Make messages due at ``rate`` a second, each due the moment it is written."""
    tick = 0.1
    began = time.perf_counter()
    done = 0
    while done < len(expert_ids):
        owed = min(len(expert_ids), int((time.perf_counter() - began) * rate) + 1)
        if owed > done:
            await add_due_messages(app, engagement_id, expert_ids[done:owed], now=app.clock.now())
            done = owed
        await asyncio.sleep(tick)
    return round(done / (time.perf_counter() - began), 1)


async def _wait_settled(
    app: App, processes: list[tuple[subprocess.Popen[bytes], Path]], within: float
) -> None:
    deadline = time.monotonic() + within
    while True:
        async with app.sessions() as session:
            left = await session.scalar(
                select(func.count(Message.id)).where(
                    Message.status.in_((MessageStatus.PENDING, MessageStatus.SENDING))
                )
            )
        if not left:
            return
        for process, log in processes:
            if process.poll() is not None:
                raise SystemExit(f"a worker stopped:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{left} messages still unsent after {within:.0f}s")
        await asyncio.sleep(0.2)


async def _lag_figures(app: App) -> dict[str, Any]:
    async with app.sessions() as session:
        rows = (
            await session.execute(
                select(Message.due_at, Message.sent_at, DeliveryAttempt.finished_at)
                .outerjoin(
                    DeliveryAttempt,
                    (DeliveryAttempt.message_id == Message.id)
                    & (DeliveryAttempt.outcome == AttemptOutcome.ACCEPTED),
                )
                .where(Message.status == MessageStatus.SENT)
            )
        ).all()
        unsent = await session.scalar(
            select(func.count(Message.id)).where(Message.status != MessageStatus.SENT)
        )
    lags = sorted(((finished or sent) - due).total_seconds() for due, sent, finished in rows)
    span = max((finished or sent) for _, sent, finished in rows) - min(due for due, _, _ in rows)
    return {
        "sent": len(lags),
        "not_sent": unsent,
        "lag_p50_s": round(_percentile(lags, 50), 3),
        "lag_p99_s": round(_percentile(lags, 99), 3),
        "lag_max_s": round(lags[-1], 3),
        "sent_per_s": round(len(lags) / span.total_seconds(), 1),
    }


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest rank: the smallest value with at least ``percent`` % of values at or below it."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


async def lag_main(args: argparse.Namespace) -> None:
    configurations: list[tuple[str | None, int]] = []
    if args.database_url:
        configurations += [(args.database_url, n) for n in args.workers]
    else:
        print(
            "PostgreSQL configurations need --database-url postgresql://…; SQLite only.",
            file=sys.stderr,
            flush=True,
        )
    print(f"SQLite runs one worker by design ({SEVERAL_WORKERS_HINT}).", file=sys.stderr)
    configurations.append((None, 1))
    for url, workers in configurations:
        figures = await bench_lag(url, workers, args)
        line = {
            "mode": "lag",
            "database": "postgresql" if url else "sqlite",
            "workers": workers,
            "target_per_s": args.rate,
            "duration_s": args.duration,
            "dispatch_interval_s": args.interval,
            "twilio_latency_s": args.latency,
            **figures,
        }
        print(json.dumps(line), flush=True)


def _worker_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= 16 for n in counts):
        raise argparse.ArgumentTypeError("give worker counts from 1 to 16, like 1,2,4")
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="per channel (not letters)")
    parser.add_argument("--letters", type=int, default=30, help="letters (PDFs are slow)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; default SQLite")
    lag = parser.add_argument_group("due-to-sent lag (--lag)")
    lag.add_argument("--lag", action="store_true", help="measure lag with worker processes")
    lag.add_argument("--rate", type=float, default=20.0, help="messages due per second")
    lag.add_argument("--duration", type=float, default=20.0, help="seconds of feeding")
    lag.add_argument(
        "--workers", type=_worker_counts, default=[1, 2, 4], help="PostgreSQL worker counts"
    )
    lag.add_argument(
        "--interval", type=float, default=1.0, help="LINKLINE_DISPATCH_INTERVAL_SECONDS"
    )
    lag.add_argument("--latency", type=float, default=0.05, help="the fake Twilio's answer time")
    args = parser.parse_args()
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
        figures = {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}
        print(
            json.dumps({"channel": name, "database": database, "messages": count, **figures}),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())

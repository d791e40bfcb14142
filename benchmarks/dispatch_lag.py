"""Due-to-sent lag with several worker processes: the ``--lag`` mode of benchmarks/dispatch.py.

SMS messages become due at a steady rate while real `linkline worker` processes send them
to the fake Twilio. One JSON line per configuration: p50 and p99 of (when the provider's
answer was recorded) - (when the message was due), with 1, 2 and 4 workers on PostgreSQL
(``--database-url``) and 1 on SQLite, which runs one by design.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.common import clean_environ, scratch_app, start_logged, stop_all
from bot.bootstrap import App
from bot.cli.worker_lock import SEVERAL_WORKERS_HINT
from bot.settings import Settings
from store.crypto import generate_secret_key
from store.enums import AttemptOutcome, MessageStatus
from store.models import DeliveryAttempt, Message
from tests.fakes.twilio import FakeTwilioThread
from tests.load import add_due_messages, add_sms_experts

Worker = tuple[subprocess.Popen[bytes], Path]


async def bench_lag(
    database_url: str | None, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Feed SMS messages at a steady rate to ``workers`` real `linkline worker` processes."""
    with tempfile.TemporaryDirectory() as folder:
        secret = generate_secret_key()
        url = database_url or f"sqlite:///{folder}/bench.db"
        settings = Settings(
            _env_file=None,
            data_dir=Path(folder),
            secret_key=secret,
            database_url=url,
        )
        async with scratch_app(settings, database_url) as app:
            total = round(args.rate * args.duration)
            engagement_id, expert_ids = await add_sms_experts(app, total)
            with FakeTwilioThread(latency=args.latency) as twilio:
                env = {
                    **clean_environ(),
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
                    stop_all([process for process, _ in processes], wait=60)
                texted = [sms.to for sms in twilio.ledger()]
            figures = await _lag_figures(app)
    twice = len(texted) - len(set(texted))
    if figures["not_sent"] or figures["sent"] != total or len(set(texted)) != total or twice:
        raise SystemExit(
            f"{workers} worker(s): {figures['sent']} of {total} stored as sent, "
            f"{len(set(texted))} reached the provider, {twice} twice"
        )
    return {**figures, "fed_per_s": fed}


def _start_worker(env: dict[str, str], folder: Path, n: int) -> Worker:
    log = folder / f"worker-{n}.log"
    return start_logged(["-m", "bot", "worker"], env, log), log


async def _wait_started(processes: list[Worker]) -> None:
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


async def _wait_settled(app: App, processes: list[Worker], within: float) -> None:
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
    answered = [(due, _answered(sent, finished)) for due, sent, finished in rows]
    lags = sorted((at - due).total_seconds() for due, at in answered)
    span = max(at for _, at in answered) - min(due for due, _ in answered)
    return {
        "sent": len(lags),
        "not_sent": unsent,
        "lag_p50_s": round(_percentile(lags, 50), 3),
        "lag_p99_s": round(_percentile(lags, 99), 3),
        "lag_max_s": round(lags[-1], 3),
        "sent_per_s": round(len(lags) / span.total_seconds(), 1),
    }


def _answered(sent: datetime | None, finished: datetime | None) -> datetime:
    """When the provider's answer was recorded (the attempt's end, else the message's)."""
    at = finished or sent
    assert at is not None, "a sent message has the time it was sent"
    return at


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


def worker_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= 16 for n in counts):
        raise argparse.ArgumentTypeError("give worker counts from 1 to 16, like 1,2,4")
    return counts

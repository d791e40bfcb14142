"""Several `linkline worker` processes on one outbox: nothing lost, nothing sent twice.

These start real worker processes on real databases. SMS goes through the real Twilio SDK
to the loopback fake (its ledger is everything that would have reached a phone), or to
dry-run files. The seeding and the checks run here, with the system clock, because the
workers run on it too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, build_app
from channels.dryrun import DryRunChannel
from channels.sms import plain_text
from scheduling.sending.outbox import claim_due
from store.enums import AttemptOutcome, Channel, MessageStatus, Purpose, TaskKind, TaskStatus
from store.models import DeliveryAttempt, Message, Task
from tests.conftest import TEST_KEY, _truncate, make_settings
from tests.fakes.twilio import FakeTwilio, FakeTwilioThread
from tests.load import add_sms_experts, seed_due_sms

pytestmark = [pytest.mark.slow, pytest.mark.db_contract]

UNSETTLED = (MessageStatus.PENDING, MessageStatus.SENDING)


# --- plumbing ---------------------------------------------------------------------------------


@asynccontextmanager
async def live_app(tmp_path: Path, database_url: str) -> AsyncIterator[App]:
    """The app on the system clock (the workers' clock), on an empty database."""
    built = await build_app(make_settings(tmp_path, database_url), upgrade=True)
    await _truncate(built)
    try:
        yield built
    finally:
        await built.aclose()


def worker_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LINKLINE_SECRET_KEY": TEST_KEY,
        "LINKLINE_DATA_DIR": str(tmp_path / "var"),
        "LINKLINE_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LINKLINE_DISPATCH_INTERVAL_SECONDS": "0.2",
        "LINKLINE_DISPATCH_BATCH_SIZE": "20",
        "LINKLINE_LEASE_SECONDS": "10",  # the shortest allowed
        "LINKLINE_SWEEP_INTERVAL_SECONDS": "1",
        **extra,
    }


class Proc:
    """One `linkline` subprocess, its output kept in a file so a full pipe never blocks it."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.log = tmp_path / f"{args[0]}-{time.monotonic_ns()}.log"
        with self.log.open("w") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"it did not stop within {timeout}s:\n{self.output}") from None


def linkline(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def wait_for(
    what: str, done: Callable[[], bool], procs: list[Proc], within: float = 60
) -> None:
    deadline = time.monotonic() + within
    while not done():
        for proc in procs:
            if proc.popen.poll() is not None:
                raise AssertionError(f"it ended while waiting for {what}:\n{proc.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_settled(app: App, procs: list[Proc], within: float = 60) -> None:
    """Until no message is pending or sending: every one sent, or settled by the sweeper."""
    deadline = time.monotonic() + within
    while await unsettled(app):
        for proc in procs:
            if proc.popen.poll() is not None:
                raise AssertionError(f"it ended early:\n{proc.output}")
        if time.monotonic() > deadline:
            counts = await status_counts(app)
            raise AssertionError(f"messages still unsettled after {within}s: {counts}")
        await asyncio.sleep(0.2)


async def unsettled(app: App) -> int:
    async with app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count(Message.id)).where(Message.status.in_(UNSETTLED))
            )
            or 0
        )


async def status_counts(app: App) -> dict[MessageStatus, int]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(Message.status, func.count(Message.id)).group_by(Message.status)
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def messages(app: App) -> dict[int, Message]:
    async with app.sessions() as session:
        return {m.id: m for m in await session.scalars(select(Message))}


async def attempts(app: App) -> list[DeliveryAttempt]:
    async with app.sessions() as session:
        return list(await session.scalars(select(DeliveryAttempt)))


async def in_flight(app: App) -> set[int]:
    """Messages whose provider call had started and not returned: the attempt is open."""
    return {a.message_id for a in await attempts(app) if a.outcome is AttemptOutcome.IN_PROGRESS}


async def open_check_tasks(app: App) -> set[int]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Task.message_id).where(
                Task.kind == TaskKind.CHECK_POSSIBLE_SEND, Task.status == TaskStatus.OPEN
            )
        )
        return {message_id for message_id in rows if message_id is not None}


# --- several workers on PostgreSQL ------------------------------------------------------------


@pytest.mark.postgres
async def test_three_workers_send_two_thousand_messages_each_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with live_app(tmp_path, postgres_url) as app:
        numbers = await seed_due_sms(app, 2000)
        with FakeTwilioThread() as twilio:
            env = worker_env(tmp_path, postgres_url, **twilio.env())
            workers = [Proc(tmp_path, env, "worker") for _ in range(3)]
            try:
                # About a minute on two cores: each send costs a worker ~25 ms of CPU.
                await wait_settled(app, workers, within=180)
            finally:
                codes = [worker.stop() for worker in workers]
            ledger = twilio.ledger()
        sent = await messages(app)
        tries = await attempts(app)

    assert codes == [0, 0, 0], [w.output for w in workers]
    assert {m.status for m in sent.values()} == {MessageStatus.SENT}
    # Each number got exactly one text, and it is the text recorded for its message.
    texts = Counter(sms.to for sms in ledger)
    assert len(ledger) == len(numbers) == 2000
    assert set(texts) == set(numbers.values()) and set(texts.values()) == {1}
    by_number = {sms.to: sms for sms in ledger}
    for message_id, number in numbers.items():
        message = sent[message_id]
        assert by_number[number].body == plain_text(message.body or "")
        assert by_number[number].sid == message.provider_id
    # One attempt per message, and the work was shared.
    assert Counter(a.message_id for a in tries).most_common(1)[0][1] == 1
    assert all(a.outcome is AttemptOutcome.ACCEPTED for a in tries)
    shares = Counter(a.worker for a in tries)
    assert len(shares) >= 2, shares


# --- a worker killed in the middle of sending -------------------------------------------------


async def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    async with live_app(tmp_path, database_url) as app:
        numbers = await seed_due_sms(app, 200)
        with FakeTwilioThread(latency=0.05) as twilio:
            env = worker_env(tmp_path, database_url, **twilio.env())
            first = Proc(tmp_path, env, "worker")
            try:
                await wait_for("the first texts", lambda: len(twilio.ledger()) >= 30, [first])
                # Twilio takes the next text and never answers: a send surely in flight.
                twilio.call(lambda fake: fake.delay_next(120))
                await wait_for("the held text", lambda: twilio.call(_hold_taken), [first])
            finally:
                first.stop(signal.SIGKILL)
            cut_off = await in_flight(app)
            left_sending = (await status_counts(app)).get(MessageStatus.SENDING, 0)
            second = Proc(tmp_path, env, "worker")
            try:
                await wait_settled(app, [second], within=60)
            finally:
                code = second.stop()
            ledger = twilio.ledger()
        final = await messages(app)
        checks = await open_check_tasks(app)

    assert code == 0 and "stopped" in second.output, second.output
    assert cut_off, "the kill was meant to land while a text was with Twilio"
    assert left_sending >= len(cut_off)
    statuses = {m.id: m.status for m in final.values()}
    # The texts with Twilio at the kill were found in its message list (To, From, DateSent,
    # the body's hash): settled as sent, and no person has to check any of them.
    assert set(statuses.values()) == {MessageStatus.SENT}
    assert checks == set()
    # Nothing twice, nothing lost: every number got its text exactly once, the one recorded.
    texts = Counter(sms.to for sms in ledger)
    by_number = {sms.to: sms for sms in ledger}
    for message_id, number in numbers.items():
        assert texts[number] == 1
        assert final[message_id].provider_id == by_number[number].sid


def _hold_taken(fake: FakeTwilio) -> bool:
    return fake.delays_waiting() == 0


async def test_a_dry_run_worker_killed_mid_send_settles_every_message_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    """Dry-run files can be looked up, so the sweeper settles every message for certain."""
    outbox = tmp_path / "outbox" / "sms"
    async with live_app(tmp_path, database_url) as app:
        numbers = await seed_due_sms(app, 300)
        env = worker_env(tmp_path, database_url)  # no Twilio credentials: dry-run files
        first = Proc(tmp_path, env, "worker")
        try:
            # Mid-batch, so claimed messages are left behind: a batch's sends go together
            # and are over in milliseconds, so the kill waits until one is seen in flight.
            await wait_for("the first files", lambda: _count_files(outbox) >= 50, [first])
            await _until_one_is_sending(app, first)
        finally:
            first.stop(signal.SIGKILL)
        left_sending = (await status_counts(app)).get(MessageStatus.SENDING, 0)
        second = Proc(tmp_path, env, "worker")
        try:
            await wait_settled(app, [second], within=60)
        finally:
            code = second.stop()
        final = await messages(app)

    assert code == 0, second.output
    assert left_sending >= 1, "the kill was meant to leave claimed messages behind"
    assert {m.status for m in final.values()} == {MessageStatus.SENT}
    channel = DryRunChannel(Channel.SMS, outbox)
    expected = {channel.path_for(final[i].idempotency_key) for i in numbers}
    # A kill in the middle of writing leaves the write's temporary file, which is never
    # read as a send; every message file is there once, and none extra.
    written = {p for p in outbox.iterdir() if not p.name.startswith(".partial-")}
    assert written == expected


async def _until_one_is_sending(app: App, proc: Proc, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (await status_counts(app)).get(MessageStatus.SENDING, 0) < 1:
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw a message in flight:\n{proc.output}")
        await asyncio.sleep(0.005)


def _count_files(folder: Path) -> int:
    """Messages written; a kill mid-write can leave a hidden partial file, never a message."""
    if not folder.is_dir():
        return 0
    return sum(1 for name in os.listdir(folder) if not name.startswith("."))


# --- the claim query ---------------------------------------------------------------------------


@pytest.mark.postgres
async def test_the_claim_query_reads_the_partial_index_of_due_messages(
    postgres_url: str, tmp_path: Path
) -> None:
    async with live_app(tmp_path, postgres_url) as app:
        engagement_id, expert_ids = await add_sms_experts(app, 20)
        await _history(app, engagement_id, expert_ids, sent=20_000, pending=20)
        async with app.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE message")
        claim_sql = await _claim_statement(app.engine, app)
        async with app.engine.connect() as conn:
            plan = "\n".join(
                row[0]
                for row in await conn.exec_driver_sql("EXPLAIN " + claim_sql[0], claim_sql[1])
            )
    assert "ix_message_due" in plan, plan


async def _history(
    app: App, engagement_id: int, expert_ids: list[int], *, sent: int, pending: int
) -> None:
    """Many sent rows (the history that piles up) and a few due ones, inserted in bulk."""
    now = datetime.now(UTC)
    rows = [
        {
            "expert_id": expert_ids[n % len(expert_ids)],
            "engagement_id": engagement_id,
            "purpose": Purpose.PRE_BRIEF,
            "idempotency_key": f"history:{n}",
            "due_at": now - timedelta(days=1),
            "status": MessageStatus.SENT if n < sent else MessageStatus.PENDING,
            "next_attempt_at": now - timedelta(days=1),
            "created_at": now,
            "updated_at": now,
        }
        for n in range(sent + pending)
    ]
    async with app.engine.begin() as conn:
        await conn.execute(Message.__table__.insert(), rows)


async def _claim_statement(engine: AsyncEngine, app: App) -> tuple[str, tuple[object, ...]]:
    """The SELECT that claim_due really sends, with its parameters."""
    seen: list[tuple[str, tuple[object, ...]]] = []

    def grab(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "SKIP LOCKED" in statement:
            seen.append((statement, tuple(params)))  # type: ignore[arg-type]

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        await claim_due(
            app.sessions,
            worker="explain",
            now=datetime.now(UTC),
            limit=50,
            lease=timedelta(seconds=30),
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    assert len(seen) == 1, seen
    return seen[0]


# --- one worker on SQLite ---------------------------------------------------------------------


async def test_sqlite_refuses_a_second_worker_and_several_workers(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with live_app(tmp_path, sqlite_url):
        pass  # migrated, empty
    env = worker_env(tmp_path, sqlite_url)
    first = Proc(tmp_path, env, "worker")
    try:
        await wait_for("the first worker", lambda: "Sending what is due" in first.output, [first])
        began = time.monotonic()
        second = linkline(tmp_path, env, "worker")
        assert time.monotonic() - began < 20
        assert second.returncode != 0
        assert "SQLite runs one worker" in second.stderr
        assert f"process {first.popen.pid}" in second.stderr
        service = linkline(tmp_path, env, "run", "--port", str(_free_port()))
        assert service.returncode != 0 and "SQLite runs one worker" in service.stderr
    finally:
        assert first.stop() == 0, first.output
    several = linkline(tmp_path, env, "run", "--workers", "2")
    assert several.returncode == 2
    assert "SQLite runs one worker; use PostgreSQL (DATABASE_URL=postgresql://" in several.stderr
    # Once the first has stopped, a new one may start.
    again = Proc(tmp_path, env, "worker")
    await wait_for("a new worker", lambda: "Sending what is due" in again.output, [again])
    assert again.stop() == 0


async def test_a_worker_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    async with live_app(tmp_path, sqlite_url) as app:
        await seed_due_sms(app, 20)
        env = worker_env(tmp_path, sqlite_url)
        worker = Proc(tmp_path, env, "worker")
        try:
            outbox = tmp_path / "outbox" / "sms"
            await wait_for("its first pass", lambda: _count_files(outbox) > 0, [worker])
        finally:
            code = worker.stop()
        counts = await status_counts(app)
    assert code == 0, worker.output
    assert "stopped" in worker.output
    assert "dry-run" in worker.output  # it says what each channel does, like `linkline run`
    assert MessageStatus.SENDING not in counts  # nothing was cut off half-way


# --- `linkline run --workers N` on PostgreSQL --------------------------------------------------


@pytest.mark.postgres
async def test_run_with_workers_starts_watches_and_stops_its_workers(
    postgres_url: str, tmp_path: Path
) -> None:
    async with live_app(tmp_path, postgres_url) as app:
        env = worker_env(tmp_path, postgres_url)
        service = Proc(tmp_path, env, "run", "--port", str(_free_port()), "--workers", "3")
        try:
            await wait_for("two workers", lambda: len(_children(service.popen.pid)) == 2, [service])
            # Due once every worker is up, and enough to outlast a check (0.2 s): a batch
            # is quick enough that one process would otherwise send them all alone.
            numbers = await seed_due_sms(app, 1500)
            await wait_settled(app, [service], within=60)
            victim = _children(service.popen.pid)[0]
            os.kill(victim, signal.SIGKILL)
            await wait_for(
                "a replacement",
                lambda: len(set(_children(service.popen.pid)) - {victim}) == 2,
                [service],
                within=30,
            )
            workers = _children(service.popen.pid)
        finally:
            code = service.stop()
        tries = await attempts(app)
    assert code == 0, service.output
    assert "stopped unexpectedly" in service.output and "starting it again" in service.output
    assert not any(_alive(pid) for pid in workers)  # none left behind
    assert len(tries) == len(numbers)
    assert len({a.worker for a in tries}) >= 2


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(p) for p in (task / "children").read_text().split())
        except FileNotFoundError:  # a thread that ended while we looked
            continue
    return found


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

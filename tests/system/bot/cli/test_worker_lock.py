"""One sending process per SQLite file; PostgreSQL needs no lock; the pool restarts workers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.bootstrap import StartupError
from bot.cli.worker_lock import WorkerLockError, database_file, lock_path, worker_lock
from bot.cli.worker_pool import WorkerPool


def test_a_second_holder_of_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'linkline.db'}"
    with worker_lock(url) as held:
        assert held == tmp_path / "linkline.db.worker.lock"
        with pytest.raises(WorkerLockError) as refused, worker_lock(url):
            pass
    message = str(refused.value)
    assert isinstance(refused.value, StartupError)  # shown as one line by the CLI
    assert "SQLite runs one worker" in message and "postgresql://" in message
    assert "process " in message  # names the holder, so it can be found and stopped
    with worker_lock(url):  # released on leaving the block
        pass


def test_a_relative_path_and_an_absolute_one_share_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = f"sqlite+aiosqlite:///{tmp_path / 'linkline.db'}"
    with (
        worker_lock("sqlite:///linkline.db"),
        pytest.raises(WorkerLockError),
        worker_lock(absolute),
    ):
        pass


@pytest.mark.parametrize("url", ["postgresql://u@127.0.0.1/db", "sqlite://", "sqlite:///:memory:"])
def test_postgresql_and_private_databases_take_no_lock(url: str) -> None:
    assert database_file(url) is None
    with worker_lock(url) as held, worker_lock(url) as again:
        assert held is None and again is None


def test_the_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "x.db") == tmp_path / "x.db.worker.lock"


async def test_a_worker_that_dies_is_started_again_after_a_pause() -> None:
    pool = WorkerPool(2, command=(sys.executable, "-c", "raise SystemExit(3)"), first_backoff=0.05)
    pool.start()
    for _ in range(200):
        if pool.restarts >= 4:
            break
        await asyncio.sleep(0.05)
    await pool.stop()
    assert pool.restarts >= 4
    assert pool.pids == []


async def test_stopping_the_pool_sends_sigterm_and_waits() -> None:
    # A stand-in worker that exits 0 on SIGTERM, like `linkline worker`.
    script = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    pool = WorkerPool(2, command=(sys.executable, "-c", script))
    pool.start()
    for _ in range(200):
        if len(pool.pids) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(pool.pids) == 2
    await asyncio.wait_for(pool.stop(), 20)
    assert pool.pids == [] and pool.restarts == 0

"""What the benchmarks share: a scratch Linkline (a temporary SQLite file, or a PostgreSQL
database emptied before and after), and child processes that start without a developer's
settings and are stopped cleanly.

Each benchmark puts this checkout on the import path before importing this module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bot.bootstrap import App, build_app
from bot.settings import Settings
from scheduling.clock import Clock
from tests.load import empty_database, forget_key

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def scratch_app(
    settings: Settings, database_url: str | None, *, clock: Clock | None = None
) -> AsyncIterator[App]:
    """Linkline on ``settings``, migrated. A PostgreSQL database (``database_url``) forgets
    an earlier run's key and is emptied before the run and after a run that finished."""
    if database_url:
        await forget_key(database_url)
    app = await build_app(settings, clock=clock, upgrade=True)
    try:
        if database_url:
            await empty_database(app.engine)
        yield app
        if database_url:
            await empty_database(app.engine)
    finally:
        await app.aclose()


def clean_environ() -> dict[str, str]:
    """This environment without Linkline's or providers' settings (never a developer's
    real credentials), plus the path to this checkout: the run is reproducible."""
    ours = ("LINKLINE_", "TWILIO_", "TELEGRAM_", "SMTP_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def start_logged(
    command: Sequence[str], env: dict[str, str], log: Path, *, pass_fds: Sequence[int] = ()
) -> subprocess.Popen[bytes]:
    """A child process writing to ``log``, run in the log's folder (never a developer's
    .env), with nothing on its standard input."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *command],
            env=env,
            cwd=log.parent,
            pass_fds=tuple(pass_fds),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def stop_all(processes: Sequence[subprocess.Popen[bytes]], wait: float) -> None:
    """SIGTERM to every one still running, then wait for each; kill one that hangs."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""One sending process per SQLite database, enforced with a lock file beside it.

SQLite is safe for one worker: its claims take the write lock at BEGIN, but a second
process would queue every write behind the first and gain nothing, and a copy started
by mistake (a second terminal, a stale service) should be told, not tolerated. PostgreSQL
claims with SKIP LOCKED and needs no lock, so this does nothing there.

The lock is ``flock`` on ``<database file>.worker.lock``: the kernel drops it when the
process ends, however it ends, so a crash never leaves a stale lock behind. The file
itself stays; it holds only the pid of the last holder, to name it in the error.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.bootstrap import StartupError

SEVERAL_WORKERS_HINT = "use PostgreSQL (DATABASE_URL=postgresql://…) for several"


class WorkerLockError(StartupError):
    """Another process already sends from this SQLite database."""


def database_file(database_url: str) -> Path | None:
    """The SQLite file that needs a lock; None for PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:":
        return None  # private to this process: nobody else can open it
    return Path(database).resolve()


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".worker.lock")


@contextmanager
def worker_lock(database_url: str) -> Iterator[Path | None]:
    """Hold the lock for the life of the block; refuse at once if someone else has it."""
    database = database_file(database_url)
    if database is None:
        yield None
        return
    path = lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise WorkerLockError(
                f"another Linkline process{who} is already sending from "
                f"{database}. SQLite runs one worker: stop the "
                f"other `linkline run` or `linkline worker` first, or {SEVERAL_WORKERS_HINT}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock

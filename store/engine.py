"""Database engines and sessions for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from store.crypto import Cipher, SecretKeyError
from store.errors import CannotStart
from store.models import Meta
from store.private_files import create_private_file, tighten
from store.types import attach_cipher

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


class DatabaseError(CannotStart):
    """The database cannot be used; the message says what to fix."""


def normalise_url(url: str) -> str:
    """Accept the URLs people already have (``postgresql://``) and pick the async driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"DATABASE_URL is not a database URL: {url!r} (example: "
            "postgresql://user@127.0.0.1:5432/linkline or sqlite:///var/linkline.db)"
        ) from exc
    if parsed.drivername.startswith("postgres+") or parsed.drivername == "postgres":
        parsed = parsed.set(drivername=parsed.drivername.replace("postgres", "postgresql", 1))
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise DatabaseError(
            f"DATABASE_URL uses {backend!r}; Linkline supports SQLite and PostgreSQL"
        )
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL names, or None for an in-memory database."""
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_file(url: str) -> list[str]:
    """Create the database file 0600 before SQLite does (it would make it 0644), and make an
    existing one and its -wal/-shm files owner-only; it holds staff password hashes.

    Returns the notes to show when a file had to be tightened.
    """
    path = sqlite_file(url)
    if path is None:
        return []
    create_private_file(path, "database file")
    notes = []
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        note = tighten(part, "database file")
        if note:
            notes.append(note)
    return notes


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so a claim takes the write lock first.

    Without BEGIN IMMEDIATE two claimers both read the same due rows before either writes
    (SQLite ignores FOR UPDATE), and a message could be sent twice.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, cipher: Cipher, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)  # errors and logs never carry row values
    if is_sqlite(url):
        # One connection: every transaction takes the write lock at BEGIN anyway, so more
        # connections only wait in SQLite's busy handler, which polls and is unfair (a
        # webhook could wait past busy_timeout under a burst). Waiting for the pool is a
        # fair queue instead. Other processes (the CLI) still wait through busy_timeout.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        engine = _create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = _create_async_engine(url, **kwargs)
    attach_cipher(engine.dialect, cipher)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def describe_connection_error(url: str, exc: BaseException) -> str:
    """One line a person can act on, without echoing a password."""
    shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    return (
        f"cannot reach the database at {shown}: {reason}. "
        "Check DATABASE_URL and that the server is running."
    )


async def check_connection(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except (OSError, DBAPIError, OperationalError) as exc:
        raise DatabaseError(describe_connection_error(str(engine.url), exc)) from exc


async def verify_key(sessions: async_sessionmaker[AsyncSession], cipher: Cipher) -> None:
    """Record the key's fingerprint on first use; refuse a different key afterwards.

    Catching this at start-up beats discovering it as undecryptable rows at send time.
    """
    stored: str | None = None
    for _ in range(2):
        try:
            async with sessions.begin() as session:
                stored = await session.scalar(
                    select(Meta.value).where(Meta.key == "key_fingerprint")
                )
                if stored is None:
                    session.add(Meta(key="key_fingerprint", value=cipher.fingerprint()))
                    stored = cipher.fingerprint()
        except IntegrityError:
            continue  # several workers started at once and another recorded it: read it
        break
    if stored != cipher.fingerprint():
        raise SecretKeyError(
            "LINKLINE_SECRET_KEY is not the key this database was created with: set the "
            "original key (or restore the key file next to the database)"
        )

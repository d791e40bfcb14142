"""Shared fixtures: a real database (SQLite file, and PostgreSQL when configured), a
simulated clock, and a guard that fails any test reaching beyond loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.bootstrap import App, build_app
from bot.settings import Settings
from scheduling.clock import SimulatedClock
from store.crypto import generate_secret_key

POSTGRES_ENV = "LINKLINE_TEST_POSTGRES_URL"
TEST_KEY = generate_secret_key()
# A Monday morning in London, in winter (GMT), far from any DST change.
START = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise RuntimeError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its real cost (64 MiB, 0.1 s a hash) would make the page tests, which
    sign in hundreds of times, the slowest in the suite. Same algorithm, tiny cost, handed
    to every app the wiring builds; tests/bot/services/test_accounts.py checks the real
    settings."""
    from argon2 import PasswordHasher

    from bot import bootstrap
    from bot.services.staff.sign_in import Passwords

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(bootstrap, "standard_passwords", lambda: Passwords(quick))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's .env or credentials."""
    for name in list(os.environ):
        if name.startswith(("LINKLINE_", "TWILIO_", "TELEGRAM_", "SMTP_")) and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    name = f"linkline_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkline.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'linkline.db'}"


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key=TEST_KEY,
        **overrides,
    )


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


async def _truncate(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        return
    from store.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with app.engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def app(tmp_path: Path, database_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    """The real application on a migrated database, with a simulated clock."""
    built = await build_app(make_settings(tmp_path, database_url), clock=clock, upgrade=True)
    await _truncate(built)
    try:
        yield built
    finally:
        await _truncate(built)
        await built.aclose()

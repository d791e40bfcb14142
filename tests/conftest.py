"""Shared fixtures for every level (unit, integration, system): a real database, a simulated
clock, the CLI runner, and a guard that fails any test reaching beyond loopback.

The database is SQLite unless a test is marked ``db_contract``: only the behaviour that
differs on PostgreSQL (claims, advisory locks, races, column types, migrations, workers) runs
on both. SQLite files are copies of one file migrated once per test process."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.bootstrap import App, build_app
from bot.settings import Settings
from scheduling.clock import SimulatedClock
from store.crypto import generate_secret_key
from tests.cli_runner import cli, ready  # noqa: F401 - fixtures for every level
from tests.dovecot import dovecot, dovecot_server  # noqa: F401 - a real IMAP server

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
    to every app the wiring builds; the real settings are checked in
    tests/integration/bot/services/staff/test_accounts.py."""
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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database_url` is SQLite; a `db_contract` test runs on PostgreSQL as well."""
    if "database_url" not in metafunc.fixturenames:
        return
    backends: list[object] = ["sqlite"]
    if metafunc.definition.get_closest_marker("db_contract"):
        backends.append(pytest.param("postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("database_url", backends, indirect=True)


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key=TEST_KEY,
        **overrides,
    )


async def _migrate(folder: Path, url: str) -> None:
    built = await build_app(make_settings(folder, url), upgrade=True)
    await built.aclose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head under TEST_KEY, once per test process (each
    pytest-xdist worker is one); every test gets its own copy of it."""
    folder = tmp_path_factory.mktemp("template")
    asyncio.run(_migrate(folder, f"sqlite:///{folder / 'linkline.db'}"))
    return folder / "linkline.db"


def fresh_sqlite_file(template: Path, target: Path) -> Path:
    """A private copy of the migrated template: same key, same schema, no rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target)  # with its 0600 mode, as Linkline made it
    return target


async def _admin(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # no stubs published

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
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh PostgreSQL database for this test process, migrated once, dropped at the end."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    name = f"linkline_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(tmp_path_factory.mktemp("postgres"), url))
    yield url
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite file of this test's own."""
    return f"sqlite:///{fresh_sqlite_file(sqlite_template, tmp_path / 'linkline.db')}"


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite by default; PostgreSQL too for `db_contract` tests (see pytest_generate_tests)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


async def _truncate(app: App) -> None:
    """Empty every table on PostgreSQL (a SQLite file is new for each test already). Done
    once, before a test, so each starts clean whatever the one before it left."""
    if app.engine.dialect.name != "postgresql":
        return
    from store.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with app.engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def app(tmp_path: Path, database_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    """The real application on a migrated, empty database, with a simulated clock."""
    built = await build_app(make_settings(tmp_path, database_url), clock=clock)
    await _truncate(built)
    try:
        yield built
    finally:
        await built.aclose()

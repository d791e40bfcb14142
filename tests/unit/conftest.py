"""Unit tests are pure: no database, no sockets, no processes. These guards make a test that
reaches for one fail with where it belongs, rather than quietly slowing the fast level."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

_ELSEWHERE = "unit tests use no {what}: a test that needs one belongs in tests/integration"


def _no_database() -> None:
    pytest.fail(_ELSEWHERE.format(what="database"))


@pytest.fixture
def database_url() -> str:
    _no_database()
    return ""


@pytest.fixture
def sqlite_url() -> str:
    _no_database()
    return ""


@pytest.fixture
def postgres_url() -> str:
    _no_database()
    return ""


@pytest.fixture
def app() -> None:
    _no_database()


@pytest.fixture
def cli() -> None:
    _no_database()


@pytest.fixture
def ready() -> None:
    _no_database()


def _no_socket(self: socket.socket, address: object) -> None:
    raise RuntimeError(_ELSEWHERE.format(what="socket") + f" (connect to {address!r})")


def _no_process(*args: object, **kwargs: object) -> None:
    raise RuntimeError(_ELSEWHERE.format(what="process") + " (or in tests/system)")


@pytest.fixture(autouse=True)
def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _no_socket)
    monkeypatch.setattr(subprocess, "Popen", _no_process)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", _no_process)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", _no_process)

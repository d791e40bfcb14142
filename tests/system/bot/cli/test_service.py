"""`linkline run` as an operator starts it: healthy when ready, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEY

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _linkline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_service_answers_healthz_once_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}",
        "LINKLINE_SECRET_KEY": TEST_KEY,
        "LINKLINE_DATA_DIR": str(tmp_path / "var"),
        "LINKLINE_DISPATCH_INTERVAL_SECONDS": "0.5",
    }
    assert _linkline("db", "upgrade", env=env).returncode == 0
    port = _free_port()
    service = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _wait_healthy(port)
        assert body["scheduler"] == "running" and body["database"] == "ok"
        assert body["channels"]["sms"] == "dry-run"
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    assert service.returncode == 0, output
    assert "dry-run" in output and "TWILIO_ACCOUNT_SID" in output


def test_a_port_in_use_is_reported_clearly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}",
        "LINKLINE_SECRET_KEY": TEST_KEY,
    }
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = _linkline("run", "--port", str(busy.getsockname()[1]), env=env)
    assert result.returncode == 2 and "in use" in result.stderr


def _wait_healthy(port: int) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service never became healthy")

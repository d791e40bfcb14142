"""`linkline run` believes X-Forwarded-For only from proxies it was told to trust (H-2):
by default a client on the same machine cannot pick the address sign-in counts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.system.bot.cli.test_service import _free_port, _linkline, _wait_healthy

pytestmark = pytest.mark.slow


def test_a_rotated_forwarded_for_header_does_not_escape_the_sign_in_limit(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}",
        "LINKLINE_SECRET_KEY": TEST_KEY,
        "LINKLINE_DATA_DIR": str(tmp_path / "var"),
        "FORWARDED_ALLOW_IPS": "*",  # uvicorn's own setting must not let it back in
    }
    env.pop("LINKLINE_TRUSTED_PROXIES", None)
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
        _wait_healthy(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            page = client.get("/sign-in")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert found
            statuses = [
                client.post(
                    "/sign-in",
                    data={
                        "email": f"guess{n}@example.org",
                        "password": "not the password at all",
                        "csrf_token": found.group(1),
                    },
                    headers={"X-Forwarded-For": f"10.8.{n}.1"},
                ).status_code
                for n in range(21)
            ]
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    assert statuses[:20] == [400] * 20 and statuses[20] == 429, (statuses, output)

"""`linkline demo-serve`: the demo's data in the staff pages, with the sign-ins it prints;
never a folder the demo did not make, and nothing sent."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli.demo import MARKER
from bot.cli.main import app
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.slow

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _demo_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """What `linkline demo` leaves, in miniature: its marker, and its database with staff."""
    out = tmp_path / "demo"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{out / 'demo.db'}",
        "LINKLINE_SECRET_KEY": TEST_KEY,
        "LINKLINE_DATA_DIR": str(out),
    }
    out.mkdir(mode=0o700)
    (out / MARKER).write_text("made by the test\n", encoding="utf-8")
    for args in (
        ("db", "upgrade"),
        ("staff", "create", "Sam Taylor", "--email", "sam@example.org"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    return out, env


def test_the_demo_pages_open_with_the_printed_sign_in(tmp_path: Path) -> None:
    out, env = _demo_folder(tmp_path)
    port = _free_port()
    env.pop("DATABASE_URL")  # demo-serve reads only the demo folder
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo-serve", "--out", str(out), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        said: list[str] = []
        for line in server.stdout:  # the sign-ins are printed before it serves
            said.append(line)
            if line.startswith("Nothing is sent"):
                break
        text = "".join(said)
        assert f"http://127.0.0.1:{port}/" in text and "sam@example.org" in text
        found = re.search(r"Password for each: (.+)", text)
        assert found, text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            page = _when_answering(http, "/sign-in")
            token = _TOKEN.search(page.text)
            assert token
            signed = http.post(
                "/sign-in",
                data={
                    "email": "sam@example.org",
                    "password": found.group(1).strip(),
                    "csrf_token": token.group(1),
                },
            )
            assert signed.status_code in (302, 303), signed.text
            assert http.get("/").status_code == 200
            assert http.get("/healthz").json()["scheduler"] == "stopped"  # nothing is sent
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _when_answering(http: httpx.Client, path: str) -> httpx.Response:
    for _ in range(240):
        try:
            return http.get(path)
        except httpx.TransportError:
            time.sleep(0.25)
    raise AssertionError("the demo pages never answered")


def test_a_folder_the_demo_did_not_make_is_never_opened(tmp_path: Path) -> None:
    out = tmp_path / "not-the-demo"
    out.mkdir(mode=0o700)
    (out / "demo.db").write_bytes(b"someone's real data")
    before = (out / "demo.db").read_bytes()
    refused = CliRunner().invoke(app, ["demo-serve", "--out", str(out)])
    assert refused.exit_code == 2 and "there is no demo" in refused.output
    assert (out / "demo.db").read_bytes() == before  # no password was set on it

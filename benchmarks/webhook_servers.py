"""The two servers benchmarks/webhooks.py sends to, each in a child process: the real app
(``create_web_app``) and a bare FastAPI endpoint (the floor), both served by uvicorn as
``linkline run`` serves it, on a listening socket the parent opened.

    python benchmarks/webhook_servers.py {linkline|floor} FD   (started by webhooks.py)
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.common import start_logged, stop_all
from bot.bootstrap import build_app, freeze_start_up
from bot.web.webhooks.twilio_sms import PATH


def floor_app() -> Any:
    """The same framework with nothing to do: an empty TwiML answer, body unread."""
    from fastapi import FastAPI, Response

    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    empty = b'<?xml version="1.0" encoding="UTF-8"?><Response />'

    @web.post(PATH)
    async def sms() -> Response:
        return Response(empty, media_type="application/xml")

    @web.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return web


async def serve(which: str, fd: int) -> None:
    """Serve on the listening socket the parent handed over, until SIGTERM."""
    import uvicorn

    from bot.settings import Settings
    from bot.web.app import create_web_app

    built = None
    if which == "linkline":
        built = await build_app(Settings(_env_file=None))
        web = create_web_app(built)
    else:
        web = floor_app()
    # As `linkline run` configures it (both: the floor gets the same help).
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="on"))
    freeze_start_up()
    try:
        await server.serve(sockets=[socket.socket(fileno=fd)])
    finally:
        if built is not None:
            await built.aclose()


@dataclass
class Child:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User + system time of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        stop_all([self.process], wait=30)


def start_child(which: str, folder: str, env: dict[str, str]) -> Child:
    """``which`` server in a process of its own, on a free port of 127.0.0.1."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # a free port, held from now on: no race for it
    listener.listen(2048)
    log = Path(folder) / f"{which}.log"
    fd = listener.fileno()
    process = start_logged([__file__, which, str(fd)], env, log, pass_fds=(fd,))
    port = listener.getsockname()[1]
    listener.close()  # the child has its own copy
    return Child(process, port, log)


async def wait_ready(child: Child, client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise SystemExit(f"the server stopped at start-up:\n{child.log.read_text()}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit(f"the server was not ready within a minute:\n{child.log.read_text()}")


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))

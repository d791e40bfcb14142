"""The web server `linkline run` starts: uvicorn, serving the app from `bot.web.app`.

Kept apart from the command so that `linkline --help` never loads uvicorn or FastAPI.
"""

from __future__ import annotations

from types import FrameType

import uvicorn

from bot.bootstrap import App
from bot.web.app import create_web_app
from scheduling.worker import Worker


class GentleServer(uvicorn.Server):
    """Stop gracefully on SIGTERM or Ctrl+C and return, so Linkline's own clean-up runs.

    uvicorn re-raises the signal after its shutdown, which would end the process before
    the database is closed.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def web_config(built: App, host: str, port: int, worker: Worker | None = None) -> uvicorn.Config:
    """X-Forwarded-For is believed only from the proxies in LINKLINE_TRUSTED_PROXIES.

    uvicorn on its own trusts it from 127.0.0.1, which would let anyone on the same
    machine, or any local proxy passing it through, choose the address sign-in sees."""
    proxies = built.settings.trusted_proxy_list
    return uvicorn.Config(
        create_web_app(built, worker),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
    )

"""`linkline run`: the service (scheduler and web) on one event loop."""

from __future__ import annotations

import socket
from types import FrameType

import typer
import uvicorn

from bot.cli.common import console, fail, open_app, run
from bot.web.app import create_web_app


class _Server(uvicorn.Server):
    """Stop gracefully on SIGTERM or Ctrl+C and return, so Linkline's own clean-up runs.

    uvicorn re-raises the signal after its shutdown, which would end the process before
    the database is closed.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run_service(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Start the service: the scheduler sends what is due; GET /healthz says when it is ready."""
    if not _port_free(host, port):
        fail(f"port {port} on {host} is in use: stop the other program or choose --port", 2)

    async def action() -> None:
        async with open_app() as built:
            console.print("Linkline is starting. Channels:")
            for mode in built.settings.channel_modes():
                console.print(f"  {mode.line()}", highlight=False)
            shown = built.engine.url.render_as_string(hide_password=True)
            console.print(f"Database: {shown}")
            console.print(f"Health: http://{host}:{port}/healthz   (Ctrl+C to stop)")
            config = uvicorn.Config(
                create_web_app(built), host=host, port=port, log_level="warning", lifespan="on"
            )
            await _Server(config).serve()
        console.print("Linkline stopped.")

    run(action)

"""`linkline run`: the service (scheduler and web) on one event loop, plus extra workers."""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import TYPE_CHECKING

import typer

from bot.cli.common import console, fail, load_settings, open_app, run
from bot.cli.worker_lock import SEVERAL_WORKERS_HINT, worker_lock
from bot.cli.worker_pool import WorkerPool
from store.engine import is_sqlite, normalise_url

if TYPE_CHECKING:
    from bot.bootstrap import App
from bot.services.staff.accounts import an_administrator_can_sign_in

MAX_WORKERS = 16


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
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=MAX_WORKERS,
        help="Sending processes in all: this one plus N-1 `linkline worker` processes, "
        "stopped with it and restarted if one dies. More than 1 needs PostgreSQL.",
    ),
) -> None:
    """Start the service: it sends what is due and hears replies; GET /healthz says when ready.

    SIGTERM or Ctrl+C stops it cleanly: every worker finishes the pass it is in first.
    """
    if not _port_free(host, port):
        fail(f"port {port} on {host} is in use: stop the other program or choose --port", 2)
    settings = load_settings()

    async def action() -> None:
        # The web server and its app are loaded only to serve, never for `--help`.
        from bot.bootstrap import freeze_start_up
        from bot.cli.serving import GentleServer, web_config

        if workers > 1 and is_sqlite(normalise_url(settings.resolved_database_url)):
            fail(f"SQLite runs one worker; {SEVERAL_WORKERS_HINT} (--workers {workers})", 2)
        async with open_app(settings=settings) as built:
            with worker_lock(settings.resolved_database_url):
                console.print("Linkline is starting. Channels:")
                for mode in built.settings.channel_modes():
                    console.print(f"  {mode.line()}", highlight=False)
                shown = built.engine.url.render_as_string(hide_password=True)
                console.print(f"Database: {shown}")
                if workers > 1:
                    console.print(
                        f"Workers: this process and {workers - 1} `linkline worker` "
                        f"process{'es' if workers > 2 else ''}"
                    )
                console.print(f"Staff pages: http://{host}:{port}/")
                console.print(f"Health: http://{host}:{port}/healthz   (Ctrl+C to stop)")
                if not await can_anyone_sign_in(built):
                    console.print(
                        "Nobody can sign in yet. In another terminal, create the first "
                        "administrator:\n  .venv/bin/linkline staff create 'Your Name' "
                        "--email you@example.org --admin",
                        highlight=False,
                    )
                server = GentleServer(web_config(built, host, port))
                # A closed terminal stops the service as gently as Ctrl+C does.
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGHUP, server.handle_exit, signal.SIGHUP, None
                )
                pool = WorkerPool(workers - 1)
                pool.start()
                freeze_start_up()
                try:
                    await server.serve()
                finally:
                    if workers > 1:
                        console.print("Waiting for the other workers to finish their passes...")
                    await pool.stop()
        console.print("Linkline stopped.")

    run(action)


async def can_anyone_sign_in(built: App) -> bool:
    async with built.sessions() as session:
        return await an_administrator_can_sign_in(session)

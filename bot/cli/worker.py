"""`linkline worker`: the scheduler alone, with no web server.

On PostgreSQL several workers share the outbox safely (each claims different messages with
SKIP LOCKED), so more of them send more at once; `linkline run --workers N` starts and
watches them for you. On SQLite only one process may send, and a second is refused.
"""

from __future__ import annotations

import asyncio
import signal

import typer

from bot.cli.common import console, err_console, open_app, run
from bot.cli.worker_lock import worker_lock

# SIGHUP too: a closed terminal stops it as gently as Ctrl+C.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def run_worker(
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        help="Print only warnings and errors (how `linkline run --workers` starts its workers).",
    ),
) -> None:
    """Send what is due, without the web server.

    On PostgreSQL, run as many as you need, or let `linkline run --workers N` start them.

    SQLite allows one sending process: a second worker or `linkline run` is refused.

    SIGTERM or Ctrl+C stops it cleanly: no send is cut in half, and it exits with 0.
    """

    async def action() -> None:
        from bot.bootstrap import freeze_start_up

        async with open_app() as built:
            with worker_lock(built.settings.resolved_database_url):
                worker = built.worker()
                name = worker.dispatcher.config.worker
                if not quiet:
                    console.print(f"Linkline worker {name} is starting. Channels:")
                    for mode in built.settings.channel_modes():
                        console.print(f"  {mode.line()}", highlight=False)
                    shown = built.engine.url.render_as_string(hide_password=True)
                    console.print(f"Database: {shown}")
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()

                def on_signal() -> None:
                    if stop.is_set() and not quiet:
                        err_console.print("Still finishing the pass in flight; please wait.")
                    stop.set()

                for sig in STOP_SIGNALS:
                    loop.add_signal_handler(sig, on_signal)
                try:
                    freeze_start_up()
                    worker.start()
                    if not quiet:
                        every = built.settings.dispatch_interval_seconds
                        console.print(
                            f"Sending what is due every {every:g}s (Ctrl+C or SIGTERM to stop)."
                        )
                    await stop.wait()
                    if not quiet:
                        console.print("Stopping: finishing the pass in flight...")
                    await worker.stop()
                finally:
                    for sig in STOP_SIGNALS:
                        loop.remove_signal_handler(sig)
        if not quiet:
            console.print("Linkline worker stopped.")

    run(action)

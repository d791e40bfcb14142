"""Extra `linkline worker` processes started by `linkline run --workers N`.

Processes rather than threads or tasks: each gets its own interpreter and event loop, so
a slow render or a stuck provider in one does not hold up the others, and a crash takes
down only one. They coordinate only through the database (claims with SKIP LOCKED), never
with each other. A worker that dies is started again after a pause that grows on repeated
failures, so a broken setup does not spin.

Each worker gets a session of its own, so Ctrl+C in the terminal reaches only the parent,
which then stops them with SIGTERM: one orderly stop, never a worker interrupted while it
is still starting up.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
from collections.abc import Sequence

log = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "bot", "worker", "--quiet")


class WorkerPool:
    def __init__(
        self,
        count: int,
        *,
        command: Sequence[str] = WORKER_COMMAND,
        first_backoff: float = 1.0,
        max_backoff: float = 30.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.count = count
        self.command = tuple(command)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        # A worker that ran this long before dying is restarted after the shortest pause.
        self.healthy_after = healthy_after
        self.restarts = 0
        self._processes: dict[int, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes.values() if p.returncode is None]

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_running(slot), name=f"worker-{slot}")
            for slot in range(1, self.count + 1)
        ]

    async def stop(self) -> None:
        """SIGTERM every worker, then wait while each finishes its sends in flight."""
        self._stopping.set()
        for process in list(self._processes.values()):
            _terminate(process)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _keep_running(self, slot: int) -> None:
        loop = asyncio.get_running_loop()
        backoff = self.first_backoff
        while not self._stopping.is_set():
            started = loop.time()
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.command,
                    stdin=asyncio.subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                log.warning("worker %d could not be started (%s)", slot, type(exc).__name__)
                code: int | None = None
            else:
                self._processes[slot] = process
                if self._stopping.is_set():  # stop() ran while this one was starting
                    _terminate(process)
                code = await process.wait()
                del self._processes[slot]
            if self._stopping.is_set():
                return
            if loop.time() - started >= self.healthy_after:
                backoff = self.first_backoff
            # Exit codes and pids only: never anything a worker was sending.
            log.warning(
                "worker %d stopped unexpectedly (exit code %s); starting it again in %g s",
                slot,
                code,
                backoff,
            )
            self.restarts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, self.max_backoff)


def _terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)


def _die_with_parent() -> None:
    """Linux: the kernel sends this worker SIGTERM if `linkline run` dies, even by SIGKILL,
    so no worker carries on with nobody to stop it. Runs in the child before exec."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1

"""APScheduler as a clock only: recurring jobs that ask the outbox what is due.

The in-memory job store is empty at each start and nothing about a message lives in it,
so a restart loses nothing: the truth is in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduling.maintenance import Maintenance
from scheduling.sending.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        dispatch_every: float,
        sweep_every: float = 60.0,
        before_pass: Callable[[], Awaitable[None]] | None = None,
        maintenance: Maintenance | None = None,
        plan_every: float = 900.0,
        purge_every: float = 86_400.0,
        jobs: Sequence[tuple[Callable[[], Awaitable[object]], float]] = (),
    ) -> None:
        self.dispatcher = dispatcher
        self.dispatch_every = dispatch_every
        self.sweep_every = sweep_every
        self.maintenance = maintenance
        self.plan_every = plan_every
        self.purge_every = purge_every
        # Other recurring work beside sending (staff alerts, reply escalation): (job, seconds).
        self.jobs = tuple(jobs)
        # The demo moves its simulated clock here; in service it is None.
        self.before_pass = before_pass
        self._scheduler: AsyncIOScheduler | None = None
        self._busy = asyncio.Lock()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.passes = 0

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
        scheduler.add_job(
            self.dispatch_due,
            "interval",
            seconds=self.dispatch_every,
            id="dispatch_due",
            next_run_time=datetime.now(UTC),
            **common,
        )
        scheduler.add_job(
            self.sweep_leases, "interval", seconds=self.sweep_every, id="sweep_leases", **common
        )
        if self.maintenance is not None:
            jobs = self.maintenance
            soon = datetime.now(UTC) + timedelta(seconds=5)
            periodic: tuple[tuple[Callable[[], Awaitable[object]], float], ...] = (
                (jobs.plan_pastoral, self.plan_every),
                (jobs.open_followups, self.plan_every),
                (jobs.hand_tasks_to_cover, self.plan_every),
                (jobs.purge, self.purge_every),
            )
            for job, every in periodic:
                scheduler.add_job(
                    self._maintain(job),
                    "interval",
                    seconds=every,
                    id=job.__name__,
                    next_run_time=soon,
                    **common,
                )
        for job, every in self.jobs:
            scheduler.add_job(
                self._maintain(job),
                "interval",
                seconds=every,
                id=job.__name__,
                next_run_time=datetime.now(UTC),
                **common,
            )
        scheduler.start()
        self._scheduler = scheduler

    async def dispatch_due(self) -> None:
        async with self._job(), self._busy:
            if self._stopping:
                return
            try:
                if self.before_pass is not None:
                    await self.before_pass()
                await self.dispatcher.run_until_idle(keep_going=lambda: not self._stopping)
            except Exception:
                # One bad pass must not stop the clock; the next pass retries from the outbox.
                log.exception("dispatch pass failed")
            self.passes += 1

    async def sweep_leases(self) -> None:
        async with self._job(), self._busy:
            if self._stopping:
                return
            try:
                settled = await self.dispatcher.sweep_expired_leases()
            except Exception:
                log.exception("lease sweep failed")
                return
            if settled:
                log.warning("settled %d messages left behind by a stopped worker", settled)

    def _maintain(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """Maintenance runs beside sending (not under ``_busy``): its transactions are
        short, so sends only take turns with it at the database."""

        async def run() -> None:
            async with self._job():
                if self._stopping:
                    return
                try:
                    await job()
                except Exception:
                    log.exception("%s failed; it runs again at its next time", job.__name__)

        run.__name__ = job.__name__
        return run

    @asynccontextmanager
    async def _job(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def stop(self) -> None:
        """Stop the clock, then wait for the pass in flight so no send is cut in half."""
        # APScheduler's shutdown() cancels coroutine jobs still running, so pause it
        # first and let the pass in flight finish.
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.pause()
        current = asyncio.current_task()
        pending = [t for t in self._in_flight if t is not current]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

"""Time to plan pastoral and engagement messages for a large organisation, and peak memory.

It seeds ``--experts`` experts (100,000 by default) straight into a fresh database, then
times the two planners as Linkline runs them:

* ``pastoral``: the recurring job, ``App.maintenance().plan_pastoral()``, over everyone
  (in chunks of 2,000 experts, a transaction each); then the same job again, which must
  plan nothing new.
* ``engagements``: one engagement per 100 experts, each published with 100 invited (so one
  invitation per expert), re-planned one transaction per engagement with
  ``load_engagement`` and ``replan_engagement`` (what publishing or inviting runs); then a
  second pass, which must add, move and cancel nothing.

The seeded organisation (benchmarks/plan_seed.py): 20 link workers, a quarter of whom
approve each pastoral message (so those become drafts with an approval task), one of them
away with a colleague covering; pastoral levels a quarter each off, monthly, fortnightly
and weekly; everyone joined 60 days before the simulated now, so a first run finds most
people due. One in ten had a message sent in the last few days (a pastoral hello or an
engagement check-in), so they are not due yet; one in fifty replied recently; one in a
hundred is paused. Invitations are a tenth "no" (nothing planned), three tenths "yes", the
rest unanswered. Experts are inserted in bulk (names still go through the encryption),
without consent or contact rows, which neither planner reads.

    .venv/bin/python benchmarks/plan.py [--experts 100000] [--database-url URL] [--tracemalloc]

Without ``--database-url`` it uses a new SQLite file in a temporary folder. A PostgreSQL
URL must point at 127.0.0.1 or localhost and should name a database of its own (e.g.
``linkline_bench``): Linkline's tables in it are dropped and re-created from the migrations
before the run and emptied after it. It is ANALYZEd after seeding, as autovacuum would do
on a live system.

Each figure is one JSON line. ``peak_rss_mb`` is the process's peak resident memory during
that phase: the kernel's high-water mark (VmHWM, what ``ru_maxrss`` reports), reset before
each phase through ``/proc/self/clear_refs`` where Linux allows it (``rss_peak_scope`` says
whether it is the phase's or the whole run's so far); ``process_peak_rss_mb`` is the run's
peak so far. Python rarely gives memory back, so a phase that needs less than an earlier
one shows a peak close to its ``rss_at_start_mb``. ``--tracemalloc`` also reports the
Python heap's peak for the planning phases; it makes them three to five times slower (and
adds its own memory), so it is off by default and the times of such a run are not the
figures. Seeding time is printed too, but it is set-up, not a figure. On a shared machine
the times vary by a third or more between runs; the counts do not.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from benchmarks.plan_seed import NOW, seed
from bot.bootstrap import App, build_app, freeze_start_up
from bot.settings import Settings
from scheduling.clock import SimulatedClock
from scheduling.planning.planner import PlanReport, load_engagement, replan_engagement
from store.crypto import Cipher
from store.engine import create_engine
from store.models import Base
from tests.load import empty_database, scratch_settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --- memory ---------------------------------------------------------------------------


def _status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark for this process (Linux 4.0+); False if not."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    """The high-water mark of resident memory. VmHWM is what ``ru_maxrss`` reports for a
    single-threaded process, but is reset exactly by ``clear_refs`` (``ru_maxrss`` also
    keeps the peak recorded whenever a thread, such as aiosqlite's, exits)."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


_process_peak = 0.0  # the run's peak so far, across phases


@dataclass
class Phase:
    """Wall time and memory of one phase, as JSON-ready figures."""

    figures: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measured(trace: bool = False) -> Iterator[Phase]:
    global _process_peak
    gc.collect()
    phase = Phase()
    _process_peak = max(_process_peak, _peak_rss_mb())
    scoped = _reset_peak()
    start_rss = _status_mb("VmRSS")
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    try:
        yield phase
    finally:
        elapsed = time.perf_counter() - began
        if trace:
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            phase.figures["tracemalloc_peak_mb"] = round(heap_peak / 2**20, 1)
        peak = _peak_rss_mb()
        _process_peak = max(_process_peak, peak)
        phase.figures.update(
            seconds=round(elapsed, 2),
            peak_rss_mb=round(peak, 1),
            rss_at_start_mb=round(start_rss, 1) if start_rss is not None else None,
            rss_peak_scope="phase" if scoped else "process",
            process_peak_rss_mb=round(_process_peak, 1),
        )


# --- the phases -----------------------------------------------------------------------


async def replan_all(app: App, engagement_ids: Sequence[int]) -> PlanReport:
    """Each engagement in its own transaction, as publishing or inviting re-plans it."""
    total = PlanReport()
    now = app.clock.now()
    for engagement_id in engagement_ids:
        async with app.sessions.begin() as session:
            engagement = await load_engagement(session, engagement_id)
            assert engagement is not None
            report = await replan_engagement(session, engagement, app.offsets, now)
        total.added += report.added
        total.moved += report.moved
        total.cancelled += report.cancelled
        total.unchanged += report.unchanged
    return total


def _emit(base: dict[str, Any], phase: str, figures: dict[str, Any]) -> None:
    print(json.dumps({"phase": phase, **base, **figures}), flush=True)


async def run(count: int, database_url: str | None, trace: bool) -> bool:
    database = "postgresql" if database_url else "sqlite"
    base = {"database": database, "experts": count}
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder, database_url)
        if database_url:
            await _reset_postgres(settings)
        app = await build_app(settings, clock=SimulatedClock(NOW), upgrade=True)
        freeze_start_up()  # as `linkline worker` does once it is built
        try:
            with measured() as phase:
                seeded = await seed(app, count)
            phase.figures["rows"] = seeded.rows
            _emit(base, "seed (set-up, not a figure)", phase.figures)

            jobs = app.maintenance()
            for name in ("pastoral", "pastoral_again"):
                with measured(trace) as phase:
                    report = await jobs.plan_pastoral()
                assert report is not None, "another worker holds the plan_pastoral job lock"
                seconds = phase.figures["seconds"]
                phase.figures.update(
                    per_second=round(count / seconds) if seconds else None,
                    planned=report.planned,
                    drafts=report.drafts,
                    skipped_contact_soon=report.skipped_contact_soon,
                )
                if name == "pastoral_again":
                    phase.figures["idempotent"] = report.planned == 0
                    ok = ok and report.planned == 0
                _emit(base, name, phase.figures)

            for name in ("engagements", "engagements_again"):
                with measured(trace) as phase:
                    plan = await replan_all(app, seeded.engagement_ids)
                seconds = phase.figures["seconds"]
                phase.figures.update(
                    engagements=len(seeded.engagement_ids),
                    invitations=seeded.invitations,
                    per_second=round(seeded.invitations / seconds) if seconds else None,
                    added=plan.added,
                    moved=plan.moved,
                    cancelled=plan.cancelled,
                    unchanged=plan.unchanged,
                )
                if name == "engagements_again":
                    quiet = plan.added == plan.moved == plan.cancelled == 0
                    phase.figures["idempotent"] = quiet
                    ok = ok and quiet
                _emit(base, name, phase.figures)
        finally:
            try:
                if database_url:
                    await empty_database(app.engine)
            finally:
                await app.aclose()
    return ok


async def _reset_postgres(settings: Settings) -> None:
    """Drop Linkline's tables (and Alembic's record of them) so the app re-creates them
    from the current migrations: an earlier run's data, key fingerprint or schema (say,
    from a migration edited since) cannot get in the way."""
    assert settings.secret_key is not None
    cipher = Cipher.from_secret(settings.secret_key.get_secret_value())
    engine = create_engine(settings.resolved_database_url, cipher)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        await engine.dispose()


def _check_url(parser: argparse.ArgumentParser, url: str | None) -> None:
    if url is None:
        return
    try:
        parsed = make_url(url)
    except Exception:
        parser.error(f"--database-url is not a database URL: {url!r}")
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        parser.error("--database-url must be a PostgreSQL URL (SQLite is the default)")
    if parsed.host not in LOCAL_HOSTS:
        parser.error(
            "--database-url must point at 127.0.0.1 or localhost: the benchmark drops and "
            "re-creates every Linkline table in it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--experts", type=int, default=100_000, help="how many to seed")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL URL on 127.0.0.1 whose Linkline tables may be dropped; default SQLite",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the Python heap's peak while planning (slows the planning phases)",
    )
    args = parser.parse_args()
    if args.experts < 1:
        parser.error("--experts must be at least 1")
    _check_url(parser, args.database_url)
    if not asyncio.run(run(args.experts, args.database_url, args.tracemalloc)):
        raise SystemExit("a second planning pass changed the plan: planning is not idempotent")


if __name__ == "__main__":
    main()

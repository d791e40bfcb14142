"""The ledger reconciles to the penny under any sequence of operations: random opens,
changes, approvals, payments and declines (good and bad) on a real database, checked
after every step against a plain model of what a careful clerk would have written down."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from bot.bootstrap import build_app
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.rules.payments import MOST_PENCE, PaymentError, can_move
from store.enums import PaymentPurpose, PaymentStatus
from store.models import AuditEvent, Invitation, PaymentLine
from tests.builders import add_engagement, add_expert
from tests.conftest import START, fresh_sqlite_file, make_settings

AMOUNTS = st.one_of(st.integers(0, 5_000), st.sampled_from([-1, MOST_PENCE, MOST_PENCE + 1]))


class LedgerMachine(RuleBasedStateMachine):
    template: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="ledger-"))
        self.app: Any = None
        self.invitations: list[int] = []
        # What the clerk wrote: line id -> (invitation, purpose, status, pence).
        self.model: dict[int, tuple[int, PaymentPurpose, PaymentStatus, int]] = {}
        self.paid_count: dict[int, int] = {}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        if self.app is not None:
            self.run(self.app.aclose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def start(self) -> None:
        url = f"sqlite:///{fresh_sqlite_file(self.template, self.folder / 'l.db')}"
        self.app = self.run(build_app(make_settings(self.folder, url), clock=SimulatedClock(START)))
        self.run(self._cast())

    async def _cast(self) -> None:
        async with self.app.sessions.begin() as session:
            ana = await add_expert(self.app, session, preferred_name="Ana", ref="EX-1")
            ben = await add_expert(self.app, session, preferred_name="Ben", ref="EX-2")
            engagement = await add_engagement(self.app, session, experts=[ana, ben])
            self.invitations = [i.id for i in engagement.invitations]

    async def _do(self, step: Any) -> bool:
        """Run one step in its own transaction; False when it was refused."""
        try:
            async with self.app.sessions.begin() as session:
                await step(session, self.app.clock.now())
        except PaymentError:
            return False
        return True

    @rule(who=st.integers(0, 1), purpose=st.sampled_from(list(PaymentPurpose)), pence=AMOUNTS)
    def open_line(self, who: int, purpose: PaymentPurpose, pence: int) -> None:
        invitation_id = self.invitations[who]
        made: list[int] = []

        async def step(session: Any, now: Any) -> None:
            invitation = await session.get_one(Invitation, invitation_id)
            line = await ledger.open_line(session, invitation, purpose, pence, now=now, actor="h")
            made.append(line.id)

        done = self.run(self._do(step))
        duplicate = any(i == invitation_id and p is purpose for i, p, *_ in self.model.values())
        assert done == (not duplicate and 0 <= pence <= MOST_PENCE)
        if done:
            self.model[made[0]] = (invitation_id, purpose, PaymentStatus.OWED, pence)

    def _line(self, pick: int) -> int | None:
        return sorted(self.model)[pick % len(self.model)] if self.model else None

    @rule(pick=st.integers(0, 20), pence=AMOUNTS, reason=st.sampled_from(["", "receipt", " "]))
    def change(self, pick: int, pence: int, reason: str) -> None:
        line_id = self._line(pick)
        if line_id is None:
            return

        async def step(session: Any, now: Any) -> None:
            line = await ledger.find_line(session, line_id)
            await ledger.change_amount(session, line, pence, reason, now=now, actor="h")

        invitation, purpose, status, was = self.model[line_id]
        done = self.run(self._do(step))
        allowed = (
            0 <= pence <= MOST_PENCE
            and reason.strip() != ""
            and status in (PaymentStatus.OWED, PaymentStatus.APPROVED)
        )
        assert done == allowed
        if done and pence != was:
            self.model[line_id] = (invitation, purpose, PaymentStatus.OWED, pence)

    @rule(pick=st.integers(0, 20), to=st.sampled_from(["approve", "pay", "decline"]))
    def move(self, pick: int, to: str) -> None:
        line_id = self._line(pick)
        if line_id is None:
            return
        new = {
            "approve": PaymentStatus.APPROVED,
            "pay": PaymentStatus.PAID,
            "decline": PaymentStatus.DECLINED,
        }[to]

        async def step(session: Any, now: Any) -> None:
            line = await ledger.find_line(session, line_id)
            if to == "approve":
                await ledger.approve(session, line, now=now, actor="h")
            elif to == "pay":
                await ledger.mark_paid(session, line, now=now, actor="h")
            else:
                await ledger.decline(session, line, "not covered", now=now, actor="h")

        invitation, purpose, status, pence = self.model[line_id]
        done = self.run(self._do(step))
        allowed = can_move(status, new) and not (new is PaymentStatus.APPROVED and pence == 0)
        assert done == allowed
        if done:
            self.model[line_id] = (invitation, purpose, new, pence)
            if new is PaymentStatus.PAID:
                self.paid_count[line_id] = self.paid_count.get(line_id, 0) + 1

    @invariant()
    def reconciles_to_the_penny(self) -> None:
        if self.app is None:
            return
        stored, paid_events = self.run(self._read())
        assert stored == {i: (s, p) for i, (_, _, s, p) in self.model.items()}
        expected = ledger.Totals(
            *(sum(p for *_, s, p in self.model.values() if s is st_) for st_ in PaymentStatus)
        )
        assert self.run(self._totals()) == expected
        assert paid_events == self.paid_count  # each line paid at most once, ever
        assert all(n == 1 for n in paid_events.values())

    async def _read(self) -> tuple[dict[int, tuple[PaymentStatus, int]], dict[int, int]]:
        async with self.app.sessions() as session:
            lines = await session.scalars(select(PaymentLine))
            stored = {line.id: (line.status, line.amount_pence) for line in lines}
            paid = await session.execute(
                select(AuditEvent.entity_id, func.count())
                .where(AuditEvent.action == "payment.paid")
                .group_by(AuditEvent.entity_id)
            )
            return stored, {int(i): int(n) for i, n in paid}

    async def _totals(self) -> ledger.Totals:
        async with self.app.sessions() as session:
            return ledger.totals(await ledger.lines_for(session))


def test_the_ledger_reconciles_to_the_penny_under_any_sequence(sqlite_template: Path) -> None:
    machine = type("Ledger", (LedgerMachine,), {"template": sqlite_template})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=14,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

"""The dispatcher works a batch at a time: these are the guarantees that must survive that.

A batch is loaded and decided together, so two messages to one person in the same batch
must still keep to the frequency cap, one message that breaks must not hold up the rest,
and the database work must not grow with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.bootstrap import App
from channels.base import OutgoingMessage, Receipt
from scheduling.clock import SimulatedClock
from scheduling.rules.decisions import Decision, Limits
from scheduling.sending.dispatcher import Dispatcher
from scheduling.sending.gate import Gate
from scheduling.sending.outbox import load_message
from scheduling.sending.results import Retry, record_result
from store.enums import AttemptOutcome, MessageStatus, Purpose
from store.models import DeliveryAttempt, Message
from tests.builders import add_engagement, add_expert, outbox
from tests.integration.scheduling.sending.tried import claim_and_try_first


async def _pre_briefs_due_now(app: App, clock: SimulatedClock) -> None:
    """Every planned message but the pre-briefs gone; those due now, inside safe hours."""
    from sqlalchemy import delete

    clock.set(clock.now() + timedelta(hours=2))
    async with app.sessions.begin() as session:
        await session.execute(delete(Message).where(Message.purpose != Purpose.PRE_BRIEF))
        await session.execute(
            update(Message).values(due_at=clock.now(), next_attempt_at=clock.now())
        )


@pytest.mark.db_contract
async def test_two_messages_to_one_person_in_one_batch_keep_to_the_daily_cap(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert], title="Workshop one")
        await add_engagement(app, session, experts=[expert], title="Workshop two")
    await _pre_briefs_due_now(app, clock)
    assert await app.dispatcher().run_once() == 2  # both in the same batch
    sent = await outbox(app, status=MessageStatus.SENT)
    waiting = await outbox(app, status=MessageStatus.PENDING)
    assert len(sent) == 1 and len(waiting) == 1
    assert waiting[0].next_attempt_at > clock.now() + timedelta(hours=6)  # tomorrow, not now


class _BrokenFor(Gate):
    """A gate with a bug that shows for one message only."""

    def __init__(self, app: App, broken: int) -> None:
        super().__init__(app.channels)
        self.broken = broken

    def decide(
        self, message: Message, limits: Limits, now: datetime, recent: Sequence[datetime] = ()
    ) -> Decision:
        if message.id == self.broken:
            raise RuntimeError("a bug in one message's path")
        return super().decide(message, limits, now, recent)


async def test_one_message_that_breaks_does_not_hold_up_the_rest_of_its_batch(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        for n in range(3):
            expert = await add_expert(app, session, phone=f"07123 00000{n}")
            await add_engagement(app, session, experts=[expert])
    await _pre_briefs_due_now(app, clock)
    broken = (await outbox(app))[1].id
    plain = app.dispatcher()
    dispatcher = Dispatcher(
        app.sessions, app.channels, app.renderer, clock, plain.config, gate=_BrokenFor(app, broken)
    )
    assert await dispatcher.run_once() == 3
    assert sorted(m.id for m in await outbox(app, status=MessageStatus.SENT)) == sorted(
        m.id for m in await outbox(app) if m.id != broken
    )
    # Left under its lease, untouched: the sweeper puts it back, and it goes once.
    assert [m.id for m in await outbox(app, status=MessageStatus.SENDING)] == [broken]
    clock.advance(plain.config.lease + timedelta(seconds=1))
    assert await plain.sweep_expired_leases() == 1
    await plain.run_until_idle()
    assert len(await outbox(app, status=MessageStatus.SENT)) == 3


class _Counting(Gate):
    """A gate that notes how many statements ran before the batch's first send."""

    def __init__(self, app: App) -> None:
        super().__init__(app.channels)
        self.statements: list[str] = []
        self.before_sending: int | None = None

    async def send(self, outgoing: OutgoingMessage) -> Receipt | Exception:
        if self.before_sending is None:
            self.before_sending = len(self.statements)
        return await super().send(outgoing)


@pytest.mark.db_contract
async def test_deciding_a_batch_takes_the_same_queries_however_long_it_is(
    app: App, clock: SimulatedClock
) -> None:
    """Claimed, reloaded, checked against the cap and every try recorded: as many
    statements for six messages as for two."""
    async with app.sessions.begin() as session:
        for n in range(8):
            expert = await add_expert(app, session, phone=f"07123 00001{n}")
            await add_engagement(app, session, experts=[expert])
    await _pre_briefs_due_now(app, clock)
    counts = []
    for size in (2, 6):
        gate = _Counting(app)
        config = replace(app.dispatcher().config, batch_size=size)
        dispatcher = Dispatcher(app.sessions, app.channels, app.renderer, clock, config, gate=gate)

        def count(*args: Any, gate: _Counting = gate) -> None:
            gate.statements.append(args[2])

        event.listen(app.engine.sync_engine, "before_cursor_execute", count)
        try:
            assert await dispatcher.run_once() == size
        finally:
            event.remove(app.engine.sync_engine, "before_cursor_execute", count)
        counts.append(gate.before_sending)
    assert len(await outbox(app, status=MessageStatus.SENT)) == 8
    assert counts[1] == counts[0]


async def test_a_message_with_an_open_try_is_never_sent_again_by_its_own_worker(
    app: App, clock: SimulatedClock
) -> None:
    """Its try was committed and then the batch failed (say, the commit's answer was
    lost): deciding it again must not send a second copy; the sweeper asks the provider."""
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    await _pre_briefs_due_now(app, clock)
    dispatcher = app.dispatcher()
    ids, _ = await claim_and_try_first(dispatcher, clock)  # committed, as before a send
    await dispatcher._process(ids[0])  # the same worker, its lease still good
    files = [p for p in app.settings.resolved_outbox_dir.rglob("*") if p.is_file()]
    assert files == []
    assert [m.id for m in await outbox(app, status=MessageStatus.SENDING)] == ids


class _Noting(Gate):
    """A gate that keeps the providers' answers, to hand the same one to the other path."""

    def __init__(self, app: App) -> None:
        super().__init__(app.channels)
        self.answers: list[Receipt | Exception] = []

    async def send(self, outgoing: OutgoingMessage) -> Receipt | Exception:
        self.answers.append(await super().send(outgoing))
        return self.answers[-1]


_KEPT = (
    "status",
    "status_reason",
    "lease_until",
    "claimed_by",
    "provider_id",
    "sent_at",
    "last_error",
    "updated_at",
    "attempts",
    "channel",
)
_KEPT_ON_TRY = ("outcome", "provider_id", "provider_status", "error", "finished_at", "channel")


@pytest.mark.db_contract
async def test_an_acceptance_recorded_for_a_batch_reads_as_record_result_writes_it(
    app: App, clock: SimulatedClock
) -> None:
    """The batch writes a plain acceptance with two statements for the slice, without
    loading the messages; what it stores must be exactly what ``record_result`` stores
    for the same answer on the loaded message."""
    async with app.sessions.begin() as session:
        for n in range(2):
            expert = await add_expert(app, session, phone=f"07123 00002{n}")
            await add_engagement(app, session, experts=[expert])
    await _pre_briefs_due_now(app, clock)
    gate = _Noting(app)
    plain = app.dispatcher()
    config = replace(plain.config, batch_size=1)
    dispatcher = Dispatcher(app.sessions, app.channels, app.renderer, clock, config, gate=gate)
    assert await dispatcher.run_once() == 1
    [batch] = await outbox(app, status=MessageStatus.SENT)
    [receipt] = gate.answers
    assert isinstance(receipt, Receipt)

    _, ready = await claim_and_try_first(dispatcher, clock, limit=1)
    async with app.sessions.begin() as session:
        message = await load_message(session, ready.message_id)
        assert message is not None
        [attempt] = message.attempts_log
        retry = Retry(config.retry_base, config.retry_cap)
        record_result(message, attempt, receipt, clock.now(), worker=config.worker, retry=retry)
    [one_by_one] = await outbox(app, id=ready.message_id)

    assert {k: getattr(batch, k) for k in _KEPT} == {k: getattr(one_by_one, k) for k in _KEPT}
    async with app.sessions() as session:
        tries = {
            t.message_id: {k: getattr(t, k) for k in _KEPT_ON_TRY}
            for t in await session.scalars(select(DeliveryAttempt))
        }
    assert tries[batch.id] == tries[one_by_one.id]
    assert tries[batch.id]["outcome"] is AttemptOutcome.ACCEPTED


class _SlowProvider(Gate):
    """A provider so slow to answer that the lease runs out and the sweeper settles the
    message (finding it at the provider) before its answer is recorded."""

    def __init__(self, app: App, clock: SimulatedClock, sweeper: Dispatcher) -> None:
        super().__init__(app.channels)
        self.clock, self.sweeper = clock, sweeper

    async def send(self, outgoing: OutgoingMessage) -> Receipt | Exception:
        answer = await super().send(outgoing)
        self.clock.advance(self.sweeper.config.lease + timedelta(seconds=1))
        assert await self.sweeper.sweep_expired_leases() == 1
        return answer


@pytest.mark.db_contract
async def test_an_acceptance_after_the_sweeper_settled_the_message_changes_nothing_it_decided(
    app: App, clock: SimulatedClock
) -> None:
    """The answer is no longer this worker's to write as a plain acceptance: it goes the
    full way (a late answer), which keeps the sweeper's settlement and sends nothing."""
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    await _pre_briefs_due_now(app, clock)
    plain = app.dispatcher()
    gate = _SlowProvider(app, clock, plain)
    dispatcher = Dispatcher(
        app.sessions, app.channels, app.renderer, clock, plain.config, gate=gate
    )
    assert await dispatcher.run_once() == 1
    [message] = await outbox(app)
    assert message.status is MessageStatus.SENT
    assert message.status_reason == "found at the provider after a worker stopped"
    async with app.sessions() as session:
        [attempt] = await session.scalars(select(DeliveryAttempt))
    assert attempt.outcome is AttemptOutcome.ACCEPTED
    files = [p for p in app.settings.resolved_outbox_dir.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert await plain.run_until_idle() == 0

"""Sending what is due: claim, check every rule again, route, render, send, record.

The batch is the unit of database work: it is claimed, then reloaded in one transaction
with a fixed number of queries, and every rule is checked afresh for each message in
memory (the world may have changed since it was planned: an answer, a pause, a
cancellation). Every try is committed *before* any provider is called; the sends then go
at once, and the answers are recorded as they come, a slice per transaction, with no
transaction held open across a call. If a worker dies in between, the lease sweeper finds
the open attempt and never resends blindly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from channels.base import Receipt
from channels.registry import ChannelRegistry
from scheduling.clock import Clock
from scheduling.people.handoff import (
    hand_to_person,
    open_phone_task_for_cancellation,
    open_venue_task,
)
from scheduling.planning.pastoral_drafts import close_approval_task
from scheduling.planning.promise_follow_ups import keep_word
from scheduling.rules.decisions import Decision, Finish, Limits, Send
from scheduling.sending.dispatch_types import (
    SLICE_WAIT,
    DispatchConfig,
    DispatchEvent,
    EventSink,
    Prepared,
    Ready,
)
from scheduling.sending.gate import Gate, Kind, Outbound, held_back
from scheduling.sending.outbox import (
    claim_due,
    expired_leases,
    load_message,
    load_messages,
    recent_capped_for,
    renew_leases,
)
from scheduling.sending.outgoing import build_outgoing
from scheduling.sending.recording import Answer, load_answered, record_accepted, record_tries
from scheduling.sending.results import (
    Retry,
    attempt_row,
    new_attempt,
    phone_script_fallback,
    record_result,
)
from scheduling.sending.sweeper import settle
from scheduling.text.context import template_context
from scheduling.text.rendering import Rendered, Renderer
from store.enums import (
    FINAL_STATUSES,
    AttemptOutcome,
    Channel,
    MessageStatus,
    Purpose,
    TaskKind,
)
from store.models import DeliveryAttempt, Message

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: ChannelRegistry,
        renderer: Renderer,
        clock: Clock,
        config: DispatchConfig | None = None,
        on_event: EventSink | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.gate = gate or Gate(channels)
        self.renderer = renderer
        self.clock = clock
        self.config = config or DispatchConfig()
        self.on_event = on_event
        self._limits = Limits(
            self.config.max_transient_per_channel, self.config.max_overdue, self.config.cap
        )

    async def run_once(self) -> int:
        """Claim one batch of due messages and work through it; returns how many."""
        ids = await claim_due(
            self.sessions,
            worker=self.config.worker,
            now=self.clock.now(),
            limit=self.config.batch_size,
            lease=self.config.lease,
        )
        if ids:
            await self._dispatch(ids)
        return len(ids)

    async def run_until_idle(
        self, max_batches: int = 100, keep_going: Callable[[], bool] | None = None
    ) -> int:
        """Work through batches until nothing is due; ``keep_going`` is asked between
        batches, so a stopping worker finishes its batch, not the whole backlog."""
        total = 0
        for _ in range(max_batches):
            if keep_going is not None and not keep_going():
                break
            done = await self.run_once()
            total += done
            if done == 0:
                break
        return total

    async def _process(self, message_id: int) -> None:
        """One message on its own: the same path as a batch of one."""
        await self._dispatch([message_id])

    async def _dispatch(self, ids: Sequence[int]) -> None:
        """Decide the batch together, then send it; if deciding together fails (a bug in
        one message's path rolls the whole transaction back), decide each on its own, so
        one bad message cannot hold up the rest. The sweeper settles any left behind."""
        try:
            ready = await self._decide(ids)
        except Exception:
            if len(ids) == 1:
                log.exception("message %s could not be processed", ids[0])
                return
            log.exception("a batch of %d could not be decided together; one at a time", len(ids))
            ready = []
            for message_id in ids:
                try:
                    ready += await self._decide([message_id])
                except Exception:
                    log.exception("message %s could not be processed", message_id)
        await self._send_all(ready)

    async def _decide(self, ids: Sequence[int]) -> list[Ready]:
        """One transaction for the batch: renew the leases, load what the rules need, let
        the gate decide each message in memory, record every try; committed before any
        provider is called. A fixed number of queries, however long the batch."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            held = await renew_leases(session, ids, self.config.worker, now, self.config.lease)
            # A lease that ran out (a long batch): another worker may have the message now.
            messages = await load_messages(session, held)
            recent = await recent_capped_for(
                session, {m.expert_id for m in messages if m.purpose.capped}, now
            )
            prepared: list[Prepared] = []
            for message in messages:
                if any(a.outcome is AttemptOutcome.IN_PROGRESS for a in message.attempts_log):
                    # A try is already open (a batch whose commit failed late): it may
                    # have gone, so only the sweeper, asking the provider, settles it.
                    continue
                capped = recent.get(message.expert_id) if message.purpose.capped else None
                plan = await self._decide_one(session, message, capped, now)
                if plan is not None:
                    prepared.append(plan)
                    if capped is not None:
                        capped.append(now)  # the next message to them in this batch counts it
            return await record_tries(session, prepared)

    async def _decide_one(
        self,
        session: AsyncSession,
        message: Message,
        recent: Sequence[datetime] | None,
        now: datetime,
    ) -> Prepared | None:
        decision = self.gate.decide(message, self._limits, now, recent or ())
        if decision.late_cancellation and message.engagement is not None:
            await open_phone_task_for_cancellation(session, message.engagement, message.expert, now)
            await open_venue_task(session, message.engagement, now)
        if isinstance(decision, Finish):
            await self._finish(session, message, decision, now)
            return None
        return await self._prepare(session, message, decision, now)

    async def _prepare(
        self, session: AsyncSession, message: Message, decision: Send, now: datetime
    ) -> Prepared | None:
        """Render and add the attempt; the caller flushes and commits before the provider
        call."""
        route = decision.route
        if route.channel is Channel.PHONE:
            await self._hand_to_caller(session, message, decision, now)
            return None
        context = template_context(message, route.details_safe, now)
        try:
            rendered = self.renderer.render(message.purpose, route.channel, context)
        except ValueError as exc:
            failed = Finish(MessageStatus.FAILED, str(exc), TaskKind.DELIVERY_PROBLEM)
            await self._finish(session, message, failed, now)
            return None
        limit = self.channels[route.channel].limits.max_body_chars
        if limit is not None and len(rendered.body) > limit:
            # Too long for this channel: record why, and let the next pass use the next one.
            detail = (
                f"the {route.channel.value} text is {len(rendered.body)} characters; the most "
                f"is {limit}"
            )
            too_long = new_attempt(message, decision, self.config.worker, now, error=detail)
            session.add(too_long)
            message.last_error, message.next_attempt_at = detail, now
            message.move(MessageStatus.PENDING, f"{detail}; trying the next channel", now)
            self._emit(message, "fallback", route.channel, detail, now)
            return None
        verdict = self.gate.check(message.expert, _outbound(message, route.channel, rendered), now)
        if not verdict.allowed:
            refused = held_back(session, message, route.channel, verdict, now)
            await self._finish(session, message, refused, now)
            return None
        changes = {
            "channel": route.channel,
            "subject": rendered.subject,
            "body": rendered.body,
            "promised": ",".join(rendered.promises) or None,
            "attempts": message.attempts + 1,
        }
        # Written for the whole batch in one statement (record_tries), not by the flush:
        # the object shows them all the same.
        for key, value in changes.items():
            set_committed_value(message, key, value)
        details = bool(context["details"])
        return Prepared(
            message.id,
            attempt_row(message, decision, self.config.worker, now),
            build_outgoing(message, route, rendered, details, now),
            message.expert_id,
            message.purpose,
            bool(message.promised) or message.purpose is Purpose.DETAILS,
            changes,
        )

    async def _hand_to_caller(
        self, session: AsyncSession, message: Message, decision: Send, now: datetime
    ) -> None:
        """Phone contact is made by a person: give them a script and the number."""
        try:
            script = self.renderer.render(
                message.purpose, Channel.PHONE, template_context(message, True, now)
            ).body
        except ValueError:
            script = phone_script_fallback(message)
        message.channel = Channel.PHONE
        finish = Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"{decision.reason}; a person will phone",
            TaskKind.PHONE_CALL,
            urgent=message.purpose.essential,
            channel=Channel.PHONE,
            task_details=f"{script}\nNumber: {decision.route.address}",
        )
        await self._finish(session, message, finish, now)

    async def _send_all(self, ready: Sequence[Ready]) -> None:
        """Every send of the batch at once (at most ``concurrency`` in flight; each channel
        keeps its provider's own pace), and the answers recorded as they come: whatever
        has arrived is recorded together, one transaction per slice."""
        if not ready:
            return
        slots = asyncio.Semaphore(self.config.concurrency)

        async def send(one: Ready) -> tuple[Ready, Receipt | Exception]:
            async with slots:
                return one, await self.gate.send(one.outgoing)

        pending = {asyncio.ensure_future(send(one)) for one in ready}
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if pending:  # answers come close together: a moment more makes a fuller slice
                more, pending = await asyncio.wait(pending, timeout=SLICE_WAIT)
                done |= more
            await self._record_slice([task.result() for task in done])

    async def _record_slice(self, answers: Sequence[Answer]) -> None:
        """The providers' answers for a slice of the batch, in one transaction; if that
        fails, each on its own (a message whose answer cannot be written stays open for
        the sweeper, which asks the provider rather than sending again).

        A plain acceptance (the common answer) is written with two statements for the
        slice, without loading the messages; any other answer, a late one, or a send that
        keeps a promise is recorded on the full picture by :func:`record_result`."""
        try:
            async with self.sessions.begin() as session:
                worker = self.config.worker
                rest = await record_accepted(session, answers, worker, self.clock, self._sent)
                for message, attempt, result in await load_answered(session, rest):
                    await self._record(session, message, attempt, result)
        except Exception:
            if len(answers) == 1:
                log.exception("the answer for message %s could not be recorded", answers[0][0])
                return
            for answer in answers:
                await self._record_slice([answer])

    async def _record(
        self,
        session: AsyncSession,
        message: Message,
        attempt: DeliveryAttempt,
        result: Receipt | Exception,
    ) -> None:
        now = self.clock.now()
        retry = Retry(self.config.retry_base, self.config.retry_cap)
        recorded = record_result(
            message, attempt, result, now, worker=self.config.worker, retry=retry
        )
        if recorded.finish is not None:
            await self._finish(session, message, recorded.finish, now)
        elif recorded.outcome is not None:
            self._emit(message, recorded.outcome, message.channel, recorded.detail, now)
        if message.status is MessageStatus.SENT and (
            message.promised or message.purpose is Purpose.DETAILS
        ):
            await keep_word(session, message, now)

    async def _finish(
        self, session: AsyncSession, message: Message, finish: Finish, now: datetime
    ) -> None:
        if finish.defer_until is not None:
            message.next_attempt_at = finish.defer_until
            message.deferrals += 1
            message.move(MessageStatus.PENDING, finish.reason, now)
        else:
            message.move(finish.status, finish.reason, now)
        if finish.task is not None:
            await hand_to_person(session, message, finish, now)
        if message.needs_approval and message.status in FINAL_STATUSES:
            await close_approval_task(session, message, finish.reason, now)
        outcome = "deferred" if finish.defer_until else finish.status.value
        self._emit(message, outcome, finish.channel, finish.reason, now)

    async def sweep_expired_leases(self) -> int:
        """Settle messages whose worker died: resend only when certain nothing went out."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            stale = await expired_leases(session, now)
            for message in stale:
                await settle(session, message, now, self.channels, self._finish)
        return len(stale)

    def _emit(
        self, message: Message, outcome: str, channel: Channel | None, detail: str, now: datetime
    ) -> None:
        self._emit_for(
            message.id, message.expert_id, message.purpose, outcome, channel, detail, now
        )

    def _sent(self, one: Ready, now: datetime) -> None:
        """A plain acceptance written for the slice (``record_accepted``): report it."""
        channel = one.outgoing.channel
        self._emit_for(one.message_id, one.expert_id, one.purpose, "sent", channel, one.reason, now)

    def _emit_for(
        self,
        message_id: int,
        expert_id: int,
        purpose: Purpose,
        outcome: str,
        channel: Channel | None,
        detail: str,
        now: datetime,
    ) -> None:
        log.info("message %s %s %s: %s", message_id, purpose, outcome, channel)
        if self.on_event is not None:
            self.on_event(
                DispatchEvent(now, message_id, expert_id, purpose.value, outcome, channel, detail)
            )


def _outbound(message: Message, channel: Channel, rendered: Rendered) -> Outbound:
    text = f"{rendered.subject or ''}\n{rendered.body}"
    return Outbound(Kind.SCHEDULED, channel, text, purpose=message.purpose)


__all__ = ["Decision", "DispatchConfig", "DispatchEvent", "Dispatcher", "load_message"]

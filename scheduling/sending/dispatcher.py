"""Sending what is due: claim, check every rule again, route, render, send, record.

Each message is reloaded after it is claimed and every rule is checked afresh, because
the world may have changed since it was planned (an answer, a pause, a cancellation).
The delivery attempt is committed *before* the provider is called and the result after,
with no transaction held open across the call. If a worker dies in between, the lease
sweeper finds the open attempt and never resends blindly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutgoingMessage, Receipt
from channels.registry import ChannelRegistry
from scheduling.clock import Clock
from scheduling.people.handoff import (
    hand_to_person,
    open_phone_task_for_cancellation,
    open_venue_task,
)
from scheduling.planning.pastoral_drafts import close_approval_task
from scheduling.planning.planner import keep_word
from scheduling.rules.decisions import Decision, Finish, Limits, Send
from scheduling.rules.frequency import FrequencyCap
from scheduling.sending.gate import Gate, Kind, Outbound, held_back
from scheduling.sending.outbox import (
    claim_due,
    expired_leases,
    load_for_result,
    load_message,
    recent_capped,
    renew_lease,
)
from scheduling.sending.outgoing import build_outgoing
from scheduling.sending.results import Retry, ask_provider, phone_script_fallback, record_result
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

MAX_REQUEUES = 3


@dataclass(frozen=True)
class DispatchEvent:
    """What happened to one message on one pass; the demo and logs read these."""

    at: datetime
    message_id: int
    expert_id: int
    purpose: str
    outcome: str
    channel: Channel | None
    detail: str


EventSink = Callable[[DispatchEvent], None]


@dataclass(frozen=True)
class DispatchConfig:
    worker: str = "worker-1"
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=2)
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    max_transient_per_channel: int = 5
    max_overdue: timedelta = timedelta(days=7)
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    # Messages of one batch worked on at once. Their database work queues for SQLite's
    # write lock (taken at BEGIN), but their provider calls overlap, which is where a
    # real provider's time goes: bootstrap uses 4 on SQLite and 8 on PostgreSQL.
    concurrency: int = 1


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
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(message_id: int) -> None:
            async with gate:
                try:
                    await self._process(message_id)
                except Exception:
                    # The lease sweeper settles it; the rest of the batch goes on.
                    log.exception("message %s could not be processed", message_id)

        await asyncio.gather(*(one(message_id) for message_id in ids))
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
        now = self.clock.now()
        async with self.sessions.begin() as session:
            if not await renew_lease(
                session, message_id, self.config.worker, now, self.config.lease
            ):
                return  # the lease ran out (a long batch) and another worker may have it
            message = await load_message(session, message_id)
            if message is None:
                return
            recent = (
                await recent_capped(session, message.expert_id, now)
                if message.purpose.capped
                else ()
            )
            decision = self.gate.decide(message, self._limits, now, recent)
            if decision.late_cancellation and message.engagement is not None:
                await open_phone_task_for_cancellation(
                    session, message.engagement, message.expert, now
                )
                await open_venue_task(session, message.engagement, now)
            if isinstance(decision, Finish):
                await self._finish(session, message, decision, now)
                return
            plan = await self._prepare(session, message, decision, now)
        if plan is not None:
            await self._send(*plan)

    async def _prepare(
        self, session: AsyncSession, message: Message, decision: Send, now: datetime
    ) -> tuple[int, int, OutgoingMessage] | None:
        """Render and record the attempt; the caller commits before the provider call."""
        route = decision.route
        if route.channel is Channel.PHONE:
            await self._hand_to_caller(session, message, decision, now)
            return None
        context = template_context(message, route.details_safe, now)
        try:
            rendered = self.renderer.render(message.purpose, route.channel, context)
        except ValueError as exc:
            await self._finish(session, message, _render_failure(str(exc)), now)
            return None
        limit = self.channels[route.channel].limits.max_body_chars
        if limit is not None and len(rendered.body) > limit:
            # Too long for this channel: record why, and let the next pass use the next one.
            detail = (
                f"the {route.channel.value} text is {len(rendered.body)} characters; the most "
                f"is {limit}"
            )
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    channel=route.channel,
                    router_reason=decision.reason[:500],
                    outcome=AttemptOutcome.PERMANENT_FAILURE,
                    error=detail,
                    worker=self.config.worker,
                    started_at=now,
                    finished_at=now,
                )
            )
            message.last_error, message.next_attempt_at = detail, now
            message.move(MessageStatus.PENDING, f"{detail}; trying the next channel", now)
            self._emit(message, "fallback", route.channel, detail, now)
            return None
        verdict = self.gate.check(message.expert, _outbound(message, route.channel, rendered), now)
        if not verdict.allowed:
            refused = held_back(session, message, route.channel, verdict, now)
            await self._finish(session, message, refused, now)
            return None
        message.channel = route.channel
        message.subject, message.body = rendered.subject, rendered.body
        message.promised = ",".join(rendered.promises) or None
        message.attempts += 1
        attempt = DeliveryAttempt(
            message_id=message.id,
            channel=route.channel,
            router_reason=decision.reason[:500],
            outcome=AttemptOutcome.IN_PROGRESS,
            worker=self.config.worker,
            started_at=now,
        )
        session.add(attempt)
        await session.flush()
        details = bool(context["details"])
        return message.id, attempt.id, build_outgoing(message, route, rendered, details, now)

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

    async def _send(self, message_id: int, attempt_id: int, outgoing: OutgoingMessage) -> None:
        receipt: Receipt | Exception = await self.gate.send(outgoing)
        async with self.sessions.begin() as session:
            message = await load_for_result(session, message_id)
            attempt = await session.get(DeliveryAttempt, attempt_id)
            if message is None or attempt is None:
                return
            await self._record(session, message, attempt, receipt)

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
            await load_message(session, message.id)  # a person's task needs the whole picture
            await self._finish(session, message, recorded.finish, now)
        elif recorded.outcome is not None:
            self._emit(message, recorded.outcome, message.channel, recorded.detail, now)
        if message.status is MessageStatus.SENT and (
            message.promised or message.purpose is Purpose.DETAILS
        ):
            await load_message(session, message.id)  # the ledger needs the whole picture
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
                await self._settle(session, message, now)
        return len(stale)

    async def _settle(self, session: AsyncSession, message: Message, now: datetime) -> None:
        await session.refresh(message, ["attempts_log", "expert"])
        open_attempts = [a for a in message.attempts_log if a.outcome is AttemptOutcome.IN_PROGRESS]
        if not open_attempts:
            message.requeues += 1
            if message.requeues >= MAX_REQUEUES:
                # Something about this message stops every worker: a person looks instead.
                await load_message(session, message.id)
                stuck = Finish(
                    MessageStatus.HANDED_TO_PERSON,
                    f"could not be worked on after {message.requeues} tries; a person checks",
                    TaskKind.DELIVERY_PROBLEM,
                )
                await self._finish(session, message, stuck, now)
                return
            message.move(MessageStatus.PENDING, "worker stopped before sending; trying again", now)
            return
        attempt = open_attempts[-1]
        await session.refresh(message.expert, ["contact_points"])  # a provider asked by number
        attempt.outcome, attempt.finished_at = AttemptOutcome.UNKNOWN, now
        channel = self.channels.get(attempt.channel)
        found, conclusive = await ask_provider(channel, message, attempt)
        if found is not None:
            attempt.outcome = AttemptOutcome.ACCEPTED
            attempt.provider_id = message.provider_id = found.provider_id
            message.sent_at = now
            message.move(MessageStatus.SENT, "found at the provider after a worker stopped", now)
            await load_message(session, message.id)
            await keep_word(session, message, now)
            return
        if conclusive:
            # Certain nothing went out: the try must not count against the frequency cap.
            attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
            attempt.error = "the worker stopped before the provider had it"
            message.move(MessageStatus.PENDING, "worker stopped; provider has no copy", now)
            return
        await load_message(session, message.id)
        finish = Finish(
            MessageStatus.UNCERTAIN,
            "a worker stopped while sending; it may have been sent, so it is not resent",
            TaskKind.CHECK_POSSIBLE_SEND,
        )
        await self._finish(session, message, finish, now)

    def _emit(
        self, message: Message, outcome: str, channel: Channel | None, detail: str, now: datetime
    ) -> None:
        log.info("message %s %s %s: %s", message.id, message.purpose, outcome, channel)
        if self.on_event is not None:
            self.on_event(
                DispatchEvent(
                    now,
                    message.id,
                    message.expert_id,
                    message.purpose.value,
                    outcome,
                    channel,
                    detail,
                )
            )


def _outbound(message: Message, channel: Channel, rendered: Rendered) -> Outbound:
    text = f"{rendered.subject or ''}\n{rendered.body}"
    return Outbound(Kind.SCHEDULED, channel, text, purpose=message.purpose)


def _render_failure(reason: str) -> Finish:
    return Finish(MessageStatus.FAILED, reason, TaskKind.DELIVERY_PROBLEM)


__all__ = ["Decision", "DispatchConfig", "DispatchEvent", "Dispatcher", "load_message"]

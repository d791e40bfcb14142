"""A three-week story, run by the real scheduler and dispatcher on a fast clock.

Six experts with different channels and safe hours, two engagements: one goes ahead
(with a de-brief and "you said, we did" afterwards), one is cancelled 20 hours before it
starts; one expert who said no gets a fortnightly hello in their own safe hours.
Everything goes through the same code as the service; only the clock is simulated and
the channels write files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.cli import demo_pay
from bot.cli.demo_cast import DETAILS, sample_experts
from bot.cli.demo_talk import ana_conversation, jo_answers
from bot.services.engagements import lifecycle as engagement_service
from bot.services.experts.details import ExpertInput
from bot.services.experts.profile import create_expert
from bot.services.inbox.conversation import Turn
from bot.services.inbox.replies import acknowledge
from bot.services.listening import Inbound, receive
from bot.services.staff.accounts import create_staff, set_cover
from scheduling.clock import SimulatedClock
from scheduling.sending.dispatcher import DispatchEvent
from store.enums import Channel, InvitationAnswer, MessageStatus, Role
from store.models import Expert, Message, Reply, Staff, Task
from store.models.promises import Promise

# A Monday at 8am; in the UK the clocks go forward on the 29th, within the story.
START_DAY, START_TIME = date(2026, 3, 16), time(8, 0)
DAYS = 21
STEP = timedelta(minutes=15)
ACTOR = "demo"


@dataclass
class Story:
    """Scripted things people do during the three weeks, at local times."""

    app: App
    clock: SimulatedClock
    say: Callable[[datetime, str], None]
    zone: ZoneInfo  # the organisation's: the script's times are read in it
    workshop: int = 0
    panel: int = 0
    replies: int = 0
    steps: list[tuple[datetime, str, Callable[[], Awaitable[None]]]] = field(default_factory=list)

    async def seed(self) -> None:
        now = self.clock.now()
        async with self.app.sessions.begin() as session:
            sam = await create_staff(
                session,
                name="Sam Taylor",
                email="sam@example.org",
                role=Role.LINK_WORKER,
                now=now,
                actor=ACTOR,
            )
            jo = await create_staff(
                session,
                name="Jo Reid",
                email="jo@example.org",
                role=Role.LINK_WORKER,
                now=now,
                actor=ACTOR,
            )
            lead = await create_staff(
                session,
                name="Morven Clark",
                email="morven@example.org",
                role=Role.ADMIN,
                now=now,
                actor=ACTOR,
            )
            await set_cover(
                session, sam, jo, date(2026, 3, 27), date(2026, 3, 27), now=now, actor=ACTOR
            )
            await demo_pay.set_offer(session, now)
            experts = [
                await create_expert(
                    session, self.app.cipher, ExpertInput.model_validate(d), actor=ACTOR, now=now
                )
                for d in sample_experts(date(2026, 3, 2))
            ]
            self.workshop = await self._engagement(
                session,
                "Service design workshop",
                datetime(2026, 3, 26, 14, 0, tzinfo=self.zone),
                lead,
                experts,
            )
            self.panel = await self._engagement(
                session,
                "Panel meeting",
                datetime(2026, 3, 31, 10, 0, tzinfo=self.zone),
                lead,
                experts[:5],
            )
        self.steps = sorted(
            [
                (
                    datetime(2026, 3, 20, 19, 10, tzinfo=self.zone),
                    "Fin says no to the workshop",
                    self._fin_declines,
                ),
                (
                    datetime(2026, 3, 18, 11, 0, tzinfo=self.zone),
                    "Ana, Ben, Cara, Dev and Eilidh say yes",
                    self._others_accept,
                ),
                (
                    datetime(2026, 3, 30, 14, 0, tzinfo=self.zone),
                    "The panel meeting is cancelled, 20 hours before",
                    self._cancel_panel,
                ),
                (
                    datetime(2026, 3, 27, 10, 20, tzinfo=self.zone),
                    'Ana answers her check-in by text: "2, not a great day". Sam is away, so '
                    "Jo gets an urgent task and an alert; Ana gets the support lines open now, "
                    "as numbers and hours only: her texts are not safe for details, so no "
                    "service is named",
                    self._ana_replies,
                ),
                (
                    datetime(2026, 3, 27, 10, 50, tzinfo=self.zone),
                    "Jo rings Ana, then marks her reply as seen: messages to Ana can go again",
                    self._jo_acknowledges,
                ),
                (
                    datetime(2026, 3, 27, 11, 30, tzinfo=self.zone),
                    'Ana texts back: "Thanks for ringing. Feeling a bit better now."',
                    self._ana_writes_back,
                ),
                (
                    datetime(2026, 3, 27, 11, 40, tzinfo=self.zone),
                    "Jo answers her through Linkline: a preview, then the message goes through "
                    "the gate like any other, and Jo keeps a staff-only note",
                    lambda: jo_answers(self.app, self.say, ACTOR),
                ),
                (
                    datetime(2026, 3, 27, 12, 5, tzinfo=self.zone),
                    'Cara texts from a new number: "call me". A stranger gets one neutral line',
                    self._stranger_writes,
                ),
                (
                    datetime(2026, 3, 26, 17, 0, tzinfo=self.zone),
                    "Morven records that Ana came (£25.00 for her time is owed) and her bus "
                    "fares, £6.40, receipt seen",
                    self._ana_claims,
                ),
                (
                    datetime(2026, 3, 30, 11, 0, tzinfo=self.zone),
                    "Morven approves and pays Ana's time and fares: Ana is told it was sent",
                    self._ana_paid,
                ),
                (
                    datetime(2026, 4, 1, 11, 0, tzinfo=self.zone),
                    'Sam records what changed after the workshop: "you said, we did"',
                    self._record_outcomes,
                ),
            ],
            key=lambda step: step[0],
        )

    async def _engagement(
        self, session: Any, title: str, local_start: datetime, lead: Any, experts: list[Expert]
    ) -> int:
        starts = local_start.astimezone(UTC)
        engagement = await engagement_service.create_engagement(
            session,
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            lead=lead,
            details=DETAILS,
            plan_overrides=None,
            base_offsets=self.app.offsets,
            time_zone=self.zone.key,
            now=self.clock.now(),
            actor=ACTOR,
        )
        await engagement_service.publish(
            session, engagement, self.app.offsets, now=self.clock.now(), actor=ACTOR
        )
        await engagement_service.invite(
            session, engagement, experts, self.app.offsets, now=self.clock.now(), actor=ACTOR
        )
        return engagement.id

    async def _answer(self, engagement_id: int, refs: list[str], answer: InvitationAnswer) -> None:
        async with self.app.sessions.begin() as session:
            engagement = await engagement_service.get_engagement(session, engagement_id)
            for invitation in engagement.invitations:
                if invitation.expert.ref in refs:
                    await engagement_service.record_answer(
                        session,
                        engagement,
                        invitation.expert_id,
                        answer,
                        self.app.offsets,
                        now=self.clock.now(),
                        actor=ACTOR,
                    )

    async def _fin_declines(self) -> None:
        await self._answer(self.workshop, ["EX-06"], InvitationAnswer.NO)

    async def _others_accept(self) -> None:
        refs = ["EX-01", "EX-02", "EX-03", "EX-04", "EX-05"]
        await self._answer(self.workshop, refs, InvitationAnswer.YES)
        await self._answer(self.panel, refs, InvitationAnswer.YES)

    async def _cancel_panel(self) -> None:
        async with self.app.sessions.begin() as session:
            engagement = await engagement_service.get_engagement(session, self.panel)
            await engagement_service.cancel(
                session, engagement, "the venue flooded", now=self.clock.now(), actor=ACTOR
            )

    async def _hear(self, sender: str, text: str) -> str | None:
        """A text arriving as the webhook hands it over; what the machine said back."""
        self.replies += 1
        inbound = Inbound(
            channel=Channel.SMS,
            provider_ref=f"demo:{self.replies}",
            sender=sender,
            text=text,
            received_at=self.clock.now(),
        )
        async with self.app.sessions.begin() as session:
            heard = await receive(session, inbound, self.app.listening())
        return heard.answer

    async def _ana_replies(self) -> None:
        answer = await self._hear("07123 456781", "2, not a great day")
        # Her texts are not safe for details: the lines are numbers and hours, no names.
        for line in (answer or "").splitlines():
            if line.strip():
                self.say(self.clock.now(), f"   answered: {line.strip()}")

    async def _jo_acknowledges(self) -> None:
        async with self.app.sessions.begin() as session:
            reply = await session.scalar(select(Reply).where(Reply.urgent.is_(True)))
            jo = await session.scalar(select(Staff).where(Staff.email == "jo@example.org"))
            if reply is not None:
                await acknowledge(session, reply, jo, now=self.clock.now())

    async def _ana_writes_back(self) -> None:
        answer = await self._hear("07123 456781", "Thanks for ringing. Feeling a bit better now.")
        if answer:
            self.say(self.clock.now(), f"   answered: {answer}")

    async def _stranger_writes(self) -> None:
        answer = await self._hear("07123 456799", "call me")
        self.say(self.clock.now(), f"   answered: {answer}")

    async def _ana_claims(self) -> None:
        await demo_pay.ana_came_and_claims(self.app, self.workshop, self.clock.now())

    async def _ana_paid(self) -> None:
        paid = await demo_pay.ana_is_paid(self.app, self.workshop, self.clock.now())
        self.say(self.clock.now(), f"   paid: {paid}")

    async def _record_outcomes(self) -> None:
        async with self.app.sessions.begin() as session:
            engagement = await engagement_service.get_engagement(session, self.workshop)
            await engagement_service.record_outcomes(
                session,
                engagement,
                "the service will now call people back within a day, as you suggested.",
                now=self.clock.now(),
                actor=ACTOR,
            )

    async def tick(self) -> None:
        """Move the clock one step and let people act, before the dispatcher's pass.

        The daily jobs (planning pastoral contact, follow-ups for people) run at 7am on the
        simulated clock, as the service runs them on its own timer.
        """
        before = self.clock.now().astimezone(self.zone)
        self.clock.advance(STEP)
        after = self.clock.now().astimezone(self.zone)
        if before.hour < 7 <= after.hour or (before.date() != after.date() and after.hour >= 7):
            jobs = self.app.maintenance()
            report = await jobs.plan_pastoral()
            await jobs.open_followups()
            if report is not None and report.planned:
                self.say(after, f"** {report.planned} keeping-in-touch message(s) planned")
        while self.steps and self.steps[0][0] <= self.clock.now():
            at, what, act = self.steps.pop(0)
            self.say(at, f"** {what}")
            await act()


def story_start(zone: ZoneInfo) -> datetime:
    """When the story begins, in the organisation's zone."""
    return datetime.combine(START_DAY, START_TIME, tzinfo=zone)


@dataclass
class DemoResult:
    events: list[DispatchEvent]
    statuses: dict[tuple[MessageStatus, Channel | None], int]
    tasks: list[Task]
    names: dict[int, str]
    not_sent: dict[str, int]
    promises: list[Promise]
    conversation: list[Turn] = field(default_factory=list)  # Ana's, for the summary


async def run_story(
    app: App,
    clock: SimulatedClock,
    say: Callable[[datetime, str], None],
    on_event: Callable[[DispatchEvent], None],
    names: dict[int, str],
) -> DemoResult:
    """Run the story; ``names`` is filled with the sample experts' names once seeded."""
    events: list[DispatchEvent] = []

    def record(event: DispatchEvent) -> None:
        events.append(event)
        on_event(event)

    zone = ZoneInfo(app.settings.default_time_zone)
    story = Story(app, clock, say, zone)
    await story.seed()
    async with app.sessions() as session:
        names.update({e.id: e.preferred_name for e in await session.scalars(select(Expert))})
    end = story_start(zone).astimezone(UTC) + timedelta(days=DAYS)
    finished = asyncio.Event()

    async def before_pass() -> None:
        if clock.now() >= end:
            finished.set()
            return
        await story.tick()

    worker = app.worker(record)
    worker.maintenance = None  # the story runs the daily jobs on its simulated clock
    worker.before_pass = before_pass
    worker.dispatch_every = 0.002
    worker.start()
    try:
        await finished.wait()
    finally:
        await worker.stop()
    return await _collect(app, events)


async def _collect(app: App, events: list[DispatchEvent]) -> DemoResult:
    async with app.sessions() as session:
        rows = await session.execute(
            select(Message.status, Message.channel, func.count()).group_by(
                Message.status, Message.channel
            )
        )
        statuses = {(status, channel): n for status, channel, n in rows}
        tasks = list(await session.scalars(select(Task).order_by(Task.id)))
        reasons = await session.execute(
            select(Message.status_reason, func.count())
            .where(Message.status.in_([MessageStatus.SUPPRESSED, MessageStatus.CANCELLED]))
            .group_by(Message.status_reason)
        )
        not_sent = {reason or "no reason recorded": n for reason, n in reasons}
        names = {e.id: e.preferred_name for e in await session.scalars(select(Expert))}
        promises = list(await session.scalars(select(Promise).order_by(Promise.id)))
    return DemoResult(
        events, statuses, tasks, names, not_sent, promises, await ana_conversation(app)
    )


__all__ = ["DAYS", "DemoResult", "run_story", "story_start"]

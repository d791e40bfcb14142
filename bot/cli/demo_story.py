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
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.experts.details import ExpertInput
from bot.services.experts.profile import create_expert
from bot.services.inbox.replies import acknowledge
from bot.services.listening import Inbound, receive
from bot.services.staff.accounts import create_staff, set_cover
from scheduling.clock import SimulatedClock
from scheduling.sending.dispatcher import DispatchEvent
from store.enums import Channel, InvitationAnswer, MessageStatus, Role
from store.models import Expert, Message, Reply, Staff, Task

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 3, 16, 8, 0, tzinfo=LONDON)  # a Monday; the clocks go forward on the 29th
DAYS = 21
STEP = timedelta(minutes=15)
ACTOR = "demo"

_DETAILS = {
    "purpose": "Help shape how a new support service answers people the first time they call.",
    "objectives": "Hear what made first contact easier or harder.",
    "expected_outcomes": "A short list of changes the service will try this spring.",
    "venue_name": "Leith Community Centre",
    "venue_address": "12 Example Street, Edinburgh EH6 1AA",
    "venue_accessibility": "Step-free entrance, accessible toilet, a quiet room to take a break.",
    "meeting_point": "Sam will meet you at the front door.",
    "practitioners": "Two people from the design team and Sam.",
    "transport_and_expenses": "Bus or taxi fares, childcare and lunch are paid.",
    "how_to_claim": "Give Sam your receipts on the day, or tell Sam what you spent.",
    "paperwork": "A one-page summary is posted a week before.",
}


def _experts(confirmed: date) -> list[dict[str, Any]]:
    base = {
        "link_worker": "sam@example.org",
        "consent_confirmed_on": confirmed,
        "consent_confirmed_by": "sam@example.org",
    }
    return [
        {
            **base,
            "ref": "EX-01",
            "preferred_name": "Ana",
            "preferred_channel": "sms",
            "phone": "07123 456781",
            "consent": {"sms": {"allowed": True}},
        },
        {
            **base,
            "ref": "EX-02",
            "preferred_name": "Ben",
            "preferred_channel": "telegram",
            "telegram_chat_id": "5550002",
            "consent": {"telegram": {"allowed": True, "details_safe": True}},
            "windows": [{"days": "mon-fri", "hours": "10:00-18:00"}],
        },
        {
            **base,
            "ref": "EX-03",
            "preferred_name": "Cara",
            "preferred_channel": "email",
            "email": "cara@example.net",
            "consent": {"email": {"allowed": True, "details_safe": True}},
            "windows": [{"days": "mon-fri", "hours": "09:00-17:00"}],
        },
        {
            **base,
            "ref": "EX-04",
            "preferred_name": "Dev",
            "preferred_channel": "letter",
            "postal_address": "Flat 2; 8 Sample Road; Dundee DD1 1AA",
            "discreet": False,
            "access_needs": "large_print",
            "consent": {"letter": {"allowed": True, "details_safe": True}},
        },
        {
            **base,
            "ref": "EX-05",
            "preferred_name": "Eilidh",
            "preferred_channel": "phone",
            "phone": "07123 456785",
            "consent": {"phone": {"allowed": True}},
            "windows": [{"days": "tue,thu", "hours": "13:00-15:00"}],
        },
        {
            **base,
            "ref": "EX-06",
            "preferred_name": "Fin",
            "preferred_channel": "sms",
            "fallback_channels": "email",
            "phone": "07123 456786",
            "email": "fin@example.net",
            "consent": {"sms": {"allowed": True}},
            "windows": [{"days": "every day", "hours": "18:00-20:00"}],
            "pastoral_level": "fortnightly",
        },
    ]


@dataclass
class Story:
    """Scripted things people do during the three weeks, at local times."""

    app: App
    clock: SimulatedClock
    say: Callable[[datetime, str], None]
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
            experts = [
                await create_expert(
                    session, self.app.cipher, ExpertInput.model_validate(d), actor=ACTOR, now=now
                )
                for d in _experts(date(2026, 3, 2))
            ]
            self.workshop = await self._engagement(
                session,
                "Service design workshop",
                datetime(2026, 3, 26, 14, 0, tzinfo=LONDON),
                lead,
                experts,
            )
            self.panel = await self._engagement(
                session,
                "Panel meeting",
                datetime(2026, 3, 31, 10, 0, tzinfo=LONDON),
                lead,
                experts[:5],
            )
        self.steps = sorted(
            [
                (
                    datetime(2026, 3, 20, 19, 10, tzinfo=LONDON),
                    "Fin says no to the workshop",
                    self._fin_declines,
                ),
                (
                    datetime(2026, 3, 18, 11, 0, tzinfo=LONDON),
                    "Ana, Ben, Cara, Dev and Eilidh say yes",
                    self._others_accept,
                ),
                (
                    datetime(2026, 3, 30, 14, 0, tzinfo=LONDON),
                    "The panel meeting is cancelled, 20 hours before",
                    self._cancel_panel,
                ),
                (
                    datetime(2026, 3, 27, 10, 20, tzinfo=LONDON),
                    'Ana answers her check-in by text: "2, not a great day". Sam is away, so '
                    "Jo gets an urgent task and an alert; Ana gets the support lines open now",
                    self._ana_replies,
                ),
                (
                    datetime(2026, 3, 27, 10, 50, tzinfo=LONDON),
                    "Jo rings Ana, then marks her reply as seen: messages to Ana can go again",
                    self._jo_acknowledges,
                ),
                (
                    datetime(2026, 3, 27, 12, 5, tzinfo=LONDON),
                    'Cara texts from a new number: "call me". A stranger gets one neutral line',
                    self._stranger_writes,
                ),
                (
                    datetime(2026, 4, 1, 11, 0, tzinfo=LONDON),
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
            details=_DETAILS,
            plan_overrides=None,
            base_offsets=self.app.offsets,
            time_zone="Europe/London",
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
        self.say(self.clock.now(), f"   answered: {(answer or '').splitlines()[0]} ...")

    async def _jo_acknowledges(self) -> None:
        async with self.app.sessions.begin() as session:
            reply = await session.scalar(select(Reply).where(Reply.urgent.is_(True)))
            jo = await session.scalar(select(Staff).where(Staff.email == "jo@example.org"))
            if reply is not None:
                await acknowledge(session, reply, jo, now=self.clock.now())

    async def _stranger_writes(self) -> None:
        answer = await self._hear("07123 456799", "call me")
        self.say(self.clock.now(), f"   answered: {answer}")

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
        before = self.clock.now().astimezone(LONDON)
        self.clock.advance(STEP)
        after = self.clock.now().astimezone(LONDON)
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


@dataclass
class DemoResult:
    events: list[DispatchEvent]
    statuses: dict[tuple[str, str], int]
    tasks: list[Task]
    names: dict[int, str]
    not_sent: dict[str, int]


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

    story = Story(app, clock, say)
    await story.seed()
    async with app.sessions() as session:
        names.update({e.id: e.preferred_name for e in await session.scalars(select(Expert))})
    end = START.astimezone(UTC) + timedelta(days=DAYS)
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
        statuses = {
            (status.value, channel.value if channel else "-"): n for status, channel, n in rows
        }
        tasks = list(await session.scalars(select(Task).order_by(Task.id)))
        reasons = await session.execute(
            select(Message.status_reason, func.count())
            .where(Message.status.in_([MessageStatus.SUPPRESSED, MessageStatus.CANCELLED]))
            .group_by(Message.status_reason)
        )
        not_sent = {reason or "no reason recorded": n for reason, n in reasons}
        names = {e.id: e.preferred_name for e in await session.scalars(select(Expert))}
    return DemoResult(events, statuses, tasks, names, not_sent)


__all__ = ["DAYS", "START", "Channel", "DemoResult", "run_story"]

"""Harm invariants (issue 12, item 9): random sequences of what experts and staff do, on
the real dispatcher and the real webhooks, and after every step a check of every word that
actually reached an expert (fake Twilio and Telegram ledgers, TwiML answers, dry-run email
and letter files): consent, STOP, withdrawal, holds, pauses, safe hours, discreet wording,
one copy, no "None", and every promise kept or escalated by its deadline.

Invariants in ``KNOWN_BROKEN`` would only be recorded in the property run (none are
today). The two harms this test found before the outbound gate existed (an answer after
STOP, a service's name in a discreet text) keep their shortest failing sequence below as
replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.services.engagements import lifecycle
from bot.services.experts.consent import set_consent
from bot.services.experts.contact_changes import request_change
from bot.services.inbox.replies import acknowledge
from scheduling.clock import SimulatedClock
from store.enums import Channel, EngagementStatus, ExpertStatus
from store.errors import Refused
from store.models import Expert, Reply
from tests.builders import add_engagement, add_expert, add_staff
from tests.integration.harm.invariants import (
    KNOWN_BROKEN,
    Breach,
    Person,
    blocked_words,
    check,
    duplicates,
    overdue_promises,
)
from tests.integration.harm.world import World, world

EVERY_DAY = {0, 1, 2, 3, 4, 5, 6}
WEEKDAYS = {0, 1, 2, 3, 4}
# The cast: how each can be reached, what they agreed, when it is safe.
CAST: dict[str, dict[str, Any]] = {
    "Ana": {
        "phone": "+447123456789",
        "chat": "5550001",
        "email": "ana@example.net",
        "input": {
            "preferred_channel": "sms",
            "fallback_channels": "telegram,email",
            "phone": "07123 456789",
            "telegram_chat_id": "5550001",
            "email": "ana@example.net",
            "consent": {"sms": {"allowed": True}},
            "windows": [{"days": "every day", "hours": "09:00-21:00"}],
        },
        "windows": [(EVERY_DAY, time(9), time(21))],
        "consent": {Channel.SMS: False},
    },
    "Ben": {
        "phone": "+447123456780",
        "chat": "5550002",
        "address": "3 Harbour Row\nEdinburgh EH6 6AB",
        "input": {
            "preferred_channel": "telegram",
            "fallback_channels": "sms,letter",
            "phone": "07123 456780",
            "telegram_chat_id": "5550002",
            "postal_address": "3 Harbour Row\nEdinburgh EH6 6AB",
            "consent": {
                "telegram": {"allowed": True},
                "sms": {"allowed": True},
                "letter": {"allowed": True, "details_safe": True},
            },
            "windows": [{"days": "mon-fri", "hours": "10:00-18:00"}],
        },
        "windows": [(WEEKDAYS, time(10), time(18))],
        "consent": {Channel.TELEGRAM: False, Channel.SMS: False, Channel.LETTER: True},
    },
}
# Thursday mornings before the clocks change in spring and in autumn, and a plain January.
STARTS = [
    datetime(2026, 3, 26, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 22, 9, 0, tzinfo=UTC),
    datetime(2026, 1, 12, 8, 0, tzinfo=UTC),
]
REPLIES = [
    "yes",
    "no",
    "STOP",
    "START",
    "pause 2 weeks",
    "Is there parking near the venue?",
    "honestly I can't go on like this",
    "1",
]
TITLES = ["First contact workshop", "Recovery cafe planning"]
NEW_ADDRESS = "9 Quarry Lane\nDalkeith EH22 1AA"
ACTOR = "harm-test"


class HarmMachine(RuleBasedStateMachine):
    """One example: a fresh service, two experts, a few steps."""

    template: ClassVar[Path]
    checked: ClassVar[frozenset[str]]
    recorded: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="harm-"))
        self.words = blocked_words()
        self.people: dict[str, Person] = {}
        self.ids: dict[str, int] = {}
        self.engagements: list[int] = []
        self.world: World | None = None
        self._context: Any = None
        self._checked_upto = 0
        self.log: list[str] = []

    # --- plumbing -------------------------------------------------------------------------

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @property
    def w(self) -> World:
        assert self.world is not None
        return self.world

    def teardown(self) -> None:
        if self._context is not None:
            self.run(self._context.__aexit__(None, None, None))
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize(start=st.sampled_from(STARTS))
    def start(self, start: datetime) -> None:
        clock = SimulatedClock(start)
        addresses: dict[tuple[Channel, str], str] = {}
        for name, card in CAST.items():
            addresses[(Channel.SMS, card["phone"])] = name
            addresses[(Channel.TELEGRAM, card["chat"])] = name
            if "email" in card:
                addresses[(Channel.EMAIL, card["email"])] = name
            if "address" in card:
                addresses[(Channel.LETTER, card["address"])] = name
                addresses[(Channel.LETTER, NEW_ADDRESS)] = name
        self._context = world(self.folder, self.template, clock, addresses)
        self.world = self.run(self._context.__aenter__())
        self.run(self._cast())

    async def _cast(self) -> None:
        app = self.w.app
        async with app.sessions.begin() as session:
            for name, card in CAST.items():
                expert = await add_expert(
                    app, session, preferred_name=name, discreet=True, **card["input"]
                )
                self.ids[name] = expert.id
                self.people[name] = Person(
                    name, "Europe/London", card["windows"], True, dict(card["consent"])
                )

    def note(self, line: str) -> None:
        self.log.append(f"{self.w.clock.now().isoformat()} {line}")

    # --- what staff do --------------------------------------------------------------------

    @rule(
        days=st.integers(2, 12),
        hour=st.integers(9, 17),
        who=st.sampled_from([["Ana"], ["Ben"], ["Ana", "Ben"]]),
        title=st.sampled_from(TITLES),
    )
    def plan_and_invite(self, days: int, hour: int, who: list[str], title: str) -> None:
        self.note(f"plan {title!r} in {days} days at {hour}:00 with {who}")
        self.run(self._plan(days, hour, who, title))

    async def _plan(self, days: int, hour: int, who: list[str], title: str) -> None:
        app = self.w.app
        day = (self.w.clock.now() + timedelta(days=days)).date()
        starts = datetime.combine(day, time(hour), tzinfo=UTC)
        async with app.sessions.begin() as session:
            experts = [await session.get_one(Expert, self.ids[n]) for n in who]
            engagement = await add_engagement(
                app, session, starts_at=starts, experts=experts, title=title
            )
            self.engagements.append(engagement.id)

    @precondition(lambda self: bool(self.engagements))
    @rule(which=st.integers(0, 3))
    def cancel(self, which: int) -> None:
        engagement_id = self.engagements[which % len(self.engagements)]
        self.note(f"cancel engagement {engagement_id}")
        self.run(self._cancel(engagement_id))

    async def _cancel(self, engagement_id: int) -> None:
        app = self.w.app
        async with app.sessions.begin() as session:
            engagement = await lifecycle.get_engagement(session, engagement_id)
            if engagement.status is EngagementStatus.CANCELLED:
                return
            with contextlib.suppress(Refused):
                await lifecycle.cancel(
                    session, engagement, "the venue closed", now=app.clock.now(), actor=ACTOR
                )

    @precondition(lambda self: bool(self.engagements))
    @rule(which=st.integers(0, 3), by_days=st.integers(-3, 5))
    def move(self, which: int, by_days: int) -> None:
        engagement_id = self.engagements[which % len(self.engagements)]
        self.note(f"move engagement {engagement_id} by {by_days} days")
        self.run(self._move(engagement_id, by_days))

    async def _move(self, engagement_id: int, by_days: int) -> None:
        app = self.w.app
        try:
            async with app.sessions.begin() as session:
                engagement = await lifecycle.get_engagement(session, engagement_id)
                shift = timedelta(days=by_days)
                await lifecycle.move(
                    session,
                    engagement,
                    engagement.starts_at + shift,
                    engagement.ends_at + shift,
                    app.offsets,
                    now=app.clock.now(),
                    actor=ACTOR,
                )
        except Refused:
            pass

    @rule(
        name=st.sampled_from(list(CAST)),
        channel=st.sampled_from([Channel.SMS, Channel.TELEGRAM]),
        allowed=st.booleans(),
        details_safe=st.booleans(),
    )
    def consent(self, name: str, channel: Channel, allowed: bool, details_safe: bool) -> None:
        self.note(f"consent {name} {channel.value} allowed={allowed} safe={details_safe}")
        self.run(self._consent(name, channel, allowed, details_safe))
        person = self.people[name]
        if allowed:
            person.consent[channel] = details_safe
        else:
            person.consent.pop(channel, None)

    async def _consent(self, name: str, channel: Channel, allowed: bool, safe: bool) -> None:
        app = self.w.app
        async with app.sessions.begin() as session:
            expert = await session.get_one(Expert, self.ids[name])
            staff = await add_staff(session, now=app.clock.now())
            await set_consent(
                session,
                expert,
                channel,
                allowed=allowed,
                details_safe=safe,
                confirmed_by=staff,
                confirmed_on=app.clock.now().date(),
                now=app.clock.now(),
                actor=ACTOR,
            )

    @rule(name=st.sampled_from(list(CAST)))
    def withdraw(self, name: str) -> None:
        """They leave: staff mark them withdrawn (there is no service call for it yet)."""
        self.note(f"{name} withdraws")
        self.run(self._withdraw(name))
        self.people[name].withdrawn = True

    async def _withdraw(self, name: str) -> None:
        async with self.w.app.sessions.begin() as session:
            expert = await session.get_one(Expert, self.ids[name])
            expert.status = ExpertStatus.WITHDRAWN

    @precondition(lambda self: not self.people["Ben"].address_pending)
    @rule()
    def ask_for_new_address(self) -> None:
        self.note("a new address for Ben awaits a second person")
        self.run(self._new_address())
        self.people["Ben"].address_pending = True

    async def _new_address(self) -> None:
        app = self.w.app
        async with app.sessions.begin() as session:
            expert = await session.get_one(Expert, self.ids["Ben"])
            staff = await add_staff(session, now=app.clock.now())
            await request_change(
                session,
                app.cipher,
                expert,
                staff,
                channel=Channel.LETTER,
                text=NEW_ADDRESS,
                now=app.clock.now(),
                actor=ACTOR,
            )

    @rule(name=st.sampled_from(list(CAST)))
    def look_at_replies(self, name: str) -> None:
        """The link worker reads everything they sent: a hold lifts."""
        self.note(f"staff acknowledge {name}'s replies")
        self.run(self._acknowledge(name))
        self.people[name].held = False

    async def _acknowledge(self, name: str) -> None:
        app = self.w.app
        async with app.sessions.begin() as session:
            staff = await add_staff(session, now=app.clock.now())
            replies = await session.scalars(
                select(Reply).where(
                    Reply.expert_id == self.ids[name], Reply.acknowledged_at.is_(None)
                )
            )
            for reply in replies:
                await acknowledge(session, reply, staff, now=app.clock.now())

    # --- what experts do ------------------------------------------------------------------

    @rule(
        name=st.sampled_from(list(CAST)),
        channel=st.sampled_from([Channel.SMS, Channel.TELEGRAM]),
        body=st.sampled_from(REPLIES),
    )
    def reply(self, name: str, channel: Channel, body: str) -> None:
        self.note(f"{name} sends {body!r} by {channel.value}")
        person = self.people[name]
        card = CAST[name]
        if channel is Channel.SMS:
            self.run(self.w.text(name, card["phone"], body))
        else:
            self.run(self.w.chat(card["chat"], body))
        word = body.strip().lower()
        if word == "stop":
            person.stopped.add(channel)
        elif word == "start":
            person.stopped.discard(channel)
        elif "go on" in word:
            person.held = True
        self.run(self._read_back(name))

    async def _read_back(self, name: str) -> None:
        """A pause and a hold the service set from a reply the model cannot read alone
        (the pause's end date in their zone, a low check-in score)."""
        async with self.w.app.sessions() as session:
            expert = await session.get_one(Expert, self.ids[name])
            person = self.people[name]
            if expert.held_since is not None:
                person.held = True
            if expert.paused_until is not None:
                person.paused_until = expert.paused_until
            elif expert.status is ExpertStatus.PAUSED:
                person.paused_until = date.max

    # --- time -----------------------------------------------------------------------------

    @rule(
        minutes=st.one_of(
            st.integers(5, 120),
            st.integers(1, 12).map(lambda h: h * 60),
            st.integers(1, 4).map(lambda d: d * 1440),
        )
    )
    def time_passes(self, minutes: int) -> None:
        self.w.clock.advance(timedelta(minutes=minutes))
        self.note(f"{minutes} minutes later; the dispatcher runs")
        self.run(self.w.dispatch())

    @rule()
    def dispatch(self) -> None:
        self.note("the dispatcher runs")
        self.run(self.w.dispatch())

    # --- after every step -------------------------------------------------------------------

    @invariant()
    def nothing_harmful_reached_anyone(self) -> None:
        if self.world is None:
            return
        new = self.w.sent[self._checked_upto :]
        self._checked_upto = len(self.w.sent)
        breaches: list[Breach] = []
        for sent in new:
            person = self.people.get(sent.expert)
            assert person is not None, f"a message reached someone outside the cast: {sent}"
            breaches += check(sent, person, self.words)
        breaches += [b for b in duplicates(self.w.sent) if b.sent in new]
        failing = [str(b) for b in breaches if b.invariant in self.checked]
        self.recorded.extend(str(b) for b in breaches if b.invariant not in self.checked)
        assert not failing, "\n".join(["harm:", *failing, "steps:", *self.log])

    @invariant()
    def promises_are_kept(self) -> None:
        if self.world is None:
            return
        overdue = self.run(overdue_promises(self.w.app, self.w.clock.now()))
        assert not overdue, "\n".join(["promises not kept:", *overdue, "steps:", *self.log])


# What CI can afford on one core: about half a minute for the whole property run.
AFFORDABLE = settings(
    max_examples=10,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _machine(template: Path, checked: set[str]) -> type[HarmMachine]:
    return type(
        "Harm",
        (HarmMachine,),
        {"template": template, "checked": frozenset(checked), "recorded": []},
    )


@pytest.mark.slow
def test_harm_invariants_hold_over_random_sequences(sqlite_template: Path) -> None:
    """Every invariant not known broken holds after every step of every sequence."""
    machine = _machine(sqlite_template, {k for k, broken in KNOWN_BROKEN.items() if not broken})
    run_state_machine_as_test(machine, settings=AFFORDABLE)


def _replay(template: Path, invariant: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    """The shortest failing sequence found, step by step, checking one invariant."""
    machine = _machine(template, {invariant})()
    try:
        machine.start(start=STARTS[2])
        for name, arguments in steps:
            getattr(machine, name)(**arguments)
            machine.nothing_harmful_reached_anyone()
    finally:
        machine.teardown()


def test_no_answer_after_stop_or_without_consent(sqlite_template: Path) -> None:
    _replay(
        sqlite_template,
        "consent",
        [
            ("reply", {"name": "Ana", "channel": Channel.SMS, "body": "STOP"}),
            ("reply", {"name": "Ana", "channel": Channel.SMS, "body": REPLIES[5]}),
        ],
    )


def test_support_lines_in_a_discreet_text_name_no_service(sqlite_template: Path) -> None:
    _replay(
        sqlite_template,
        "discreet",
        [("reply", {"name": "Ana", "channel": Channel.SMS, "body": REPLIES[6]})],
    )

"""Every text a person reads is for people: task titles and details, alerts and the letters'
cover sheet carry no command-line commands, no internal ids ("Message 9") and no raw values
("pre_brief"), and say what to do next. The busy day's tasks are made for real here (a late
cancellation, a letter that cannot arrive in time, a worrying reply, a draft to approve),
then every one of them is read."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import store.enums
from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from scheduling.clock import SimulatedClock
from scheduling.people.handoff import TASK_TITLES, what_went_wrong
from scheduling.text.rendering import Renderer
from store.enums import PastoralLevel, TaskKind
from store.models import Message, Staff, Task
from tests.builders import add_engagement, add_expert
from tests.integration.bot.web.admin.test_replies import text_in

ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"
TEMPLATES = Path(__file__).parents[4] / "templates"

# Raw values: every enum value with an underscore ("pre_brief", "handed_to_person"); single
# words ("sms", "open") are ordinary English and checked by the words table instead.
_RAW = sorted(
    {
        member.value
        for enum in vars(store.enums).values()
        if isinstance(enum, type) and issubclass(enum, StrEnum)
        for member in enum
        if "_" in member.value
    }
)
_MACHINE = [
    (re.compile(r"`"), "a backtick: a command to type"),
    (re.compile(r"\blinkline [a-z]"), "a command-line command"),
    (re.compile(r"--[a-z]"), "a command-line option"),
    (re.compile(r"\b(?:[Mm]essage|[Tt]ask|[Ee]ngagement|[Ee]xpert|[Rr]eply) \d+\b"), "an id"),
    (re.compile(r"\b(?:" + "|".join(_RAW) + r")\b"), "a raw value"),
]


def machine_words(text: str) -> list[str]:
    """What in this text is written for a machine or a terminal, said why."""
    return [f"{why}: {m.group(0)!r}" for rx, why in _MACHINE for m in rx.finditer(text)]


def test_the_checker_catches_what_the_review_found() -> None:
    for text in (
        "record it with `linkline engagements told 3 EX-04`",
        "Read it with linkline replies show 1, then get in touch.",
        "no safe channel left. Message 9 (pre_brief) for Douglas.",
        "Approve it with --note",
    ):
        assert machine_words(text), text
    assert machine_words("Please open Linkline and look at their record.") == []


async def test_every_task_made_on_a_busy_day_is_written_for_people(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, ref="EX-1")  # texts
        kenny = await add_expert(
            app,
            session,
            preferred_name="Kenny",
            ref="EX-2",
            phone="07123 456700",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
            windows=[{"days": "sat-sun", "hours": "10:00-22:00"}],
        )
        douglas = await add_expert(
            app,
            session,
            preferred_name="Douglas",
            ref="EX-3",
            preferred_channel="letter",
            phone=None,
            postal_address=ADDRESS,
            consent={"letter": {"allowed": True}},
        )
        soon = await add_engagement(
            app, session, starts_in=timedelta(hours=30), experts=[ana, kenny, douglas]
        )
        # Too soon for a letter: Douglas's pre-brief becomes a person's job.
        await add_engagement(
            app,
            session,
            title="Leaflet review",
            starts_in=timedelta(hours=20),
            experts=[ana, kenny, douglas],
        )
        ana.pastoral_level = PastoralLevel.MONTHLY
        ana.created_at = clock.now() - timedelta(days=40)
        staff = await session.scalar(select(Staff))
        assert staff is not None
        staff.approve_pastoral = True
    await app.dispatcher().run_until_idle()
    clock.advance(timedelta(hours=10))
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, soon.id)
        await engagement_service.cancel(
            session, engagement, "The venue flooded", now=clock.now(), actor="test"
        )
    await app.dispatcher().run_until_idle()
    await app.maintenance().plan_pastoral()
    await text_in(app, "I can't cope any more")

    async with app.sessions() as session:
        tasks = list(await session.scalars(select(Task)))
        messages = list(
            await session.scalars(
                select(Message).options(
                    selectinload(Message.expert), selectinload(Message.engagement)
                )
            )
        )
    kinds = {t.kind for t in tasks}
    assert {TaskKind.PHONE_CALL, TaskKind.VENUE_VISIT, TaskKind.URGENT_REPLY} <= kinds, kinds
    for task in tasks:
        assert machine_words(f"{task.title}\n{task.details or ''}") == [], task.details
    # The words made when a message needs a person, for every kind of task it can open.
    for message in messages:
        for kind in (TaskKind.DELIVERY_PROBLEM, TaskKind.PHONE_CALL, TaskKind.CHECK_POSSIBLE_SEND):
            text = what_went_wrong(message, kind, "no safe channel left")
            assert machine_words(text) == [], text
            assert "\n" in text  # and a line saying what to do next


def test_task_titles_and_task_and_alert_templates_are_for_people() -> None:
    for title in TASK_TITLES.values():
        assert machine_words(title) == [], title
    for folder in ("tasks", "alerts"):
        for path in sorted((TEMPLATES / folder).glob("*.txt")):
            assert machine_words(path.read_text()) == [], path.name


@pytest.mark.parametrize("name", ["urgent_reply", "overdue_reply", "overdue_promise"])
@pytest.mark.parametrize("link", [None, "https://linkline.example.org/tasks/12"])
def test_alerts_say_where_to_look_without_an_id(name: str, link: str | None) -> None:
    rendered = Renderer().render_named(f"alerts/{name}.txt", {"staff": "Sam", "link": link})
    assert machine_words(rendered.body) == [], rendered.body
    assert (link or "Tasks list") in rendered.body


def test_the_letters_cover_sheet_says_how_to_mark_them_posted_on_the_pages() -> None:
    cover = (Path(__file__).parents[4] / "channels/letter_layout/cover.html.j2").read_text()
    assert machine_words(cover) == []
    assert "Mark as posted" in cover

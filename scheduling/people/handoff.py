"""Handing work to people: phone calls, problems to look at, the 24-hour rule's tasks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.clock import local_today
from scheduling.people.cancellation_calls import VENUE_STOOD_DOWN
from scheduling.people.incidents import gather_uncertain
from scheduling.people.tasks import open_task
from scheduling.rules.contact_rules import safe_windows
from scheduling.rules.cover import responsible_staff
from scheduling.rules.decisions import Finish
from scheduling.rules.reach import call_by
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store.enums import Channel, Purpose, TaskKind, TaskStatus
from store.models import Engagement, Expert, Message


async def hand_to_person(
    session: AsyncSession, message: Message, finish: Finish, now: datetime
) -> None:
    """Hand the message to a person, with what they need to act on it."""
    expert = message.expert
    assert finish.task is not None
    engagement = message.engagement
    if message.purpose is Purpose.CANCELLATION and engagement is not None:
        # Whatever went wrong (no channel, broken settings, an uncertain send), the written
        # notice cannot be relied on: a person phones, and until everyone is confirmed,
        # someone must be at the venue.
        await open_phone_task_for_cancellation(session, engagement, expert, now)
        await open_venue_task(session, engagement, now)
        return
    kind = finish.task
    if (
        kind is TaskKind.CHECK_POSSIBLE_SEND
        and not message.purpose.essential
        and await gather_uncertain(session, message, now)
    ):
        return  # one of several a provider problem left uncertain: one task for them all
    if message.purpose.essential and not finish.unreachable:
        kind = TaskKind.PHONE_CALL
        finish = replace(finish, task=kind, urgent=True)
    staff = responsible_staff(expert.link_worker, local_today(now, expert.time_zone))
    details = finish.task_details or what_went_wrong(message, kind, finish.reason)
    due = finish.due_at or message.not_after
    if (
        finish.due_at is None
        and kind is TaskKind.PHONE_CALL
        and (message.purpose.essential or message.purpose is Purpose.PRE_BRIEF)
    ):
        due = call_by(message.purpose, message.not_after, now)  # while a call still helps
    if finish.unreachable:
        details = what_they_will_miss(message, due)
    if kind is TaskKind.PHONE_CALL:
        windows = ", ".join(w.describe() for w in safe_windows(expert, Channel.PHONE))
        details = f"{details}\nSafe times to call: {windows}."
    await open_task(
        session,
        kind=kind,
        title=UNREACHABLE_TITLE if finish.unreachable else TASK_TITLES[kind],
        details=details,
        assignee=staff,
        expert=expert,
        engagement=message.engagement,
        message=message,
        urgent=finish.urgent,
        due_at=due,
        now=now,
        dedupe_key=f"msg{message.id}:{kind.value}",
    )


UNREACHABLE_TITLE = "Someone cannot be reached in time"

# What to do next, per kind of task, when nothing more specific was written.
_NEXT = {
    TaskKind.PHONE_CALL: "Phone them at a safe time and go through it with them.",
    TaskKind.CHECK_POSSIBLE_SEND: "Check with them whether it arrived before anything is "
    "sent again: the same message twice can worry people. An administrator can send it "
    "again from Needs attention.",
}
_NEXT_OTHERWISE = (
    "Check their contact details and what they agreed to on their record, then get it to "
    "them another way if that is safe, or close this task if it is no longer needed."
)


def what_went_wrong(message: Message, kind: TaskKind, reason: str) -> str:
    """A task's words when a message needs a person: which message, to whom, about what,
    why in plain words, and what to do next (never an id or a command)."""
    expert, engagement = message.expert, message.engagement
    about = ""
    if engagement is not None:
        about = (
            f" about {engagement.title} ({spoken_datetime(engagement.starts_at, expert.time_zone)})"
        )
    what = f"The {in_sentence(message.purpose)} message to {expert.preferred_name}{about}"
    if kind is TaskKind.CHECK_POSSIBLE_SEND:
        opening = f"{what} may or may not have reached them"
    elif kind is TaskKind.PHONE_CALL:
        opening = f"{what} is for a person to give, by phone"
    else:
        opening = f"{what} could not be sent"
    because = reason.strip().rstrip(".")
    return f"{opening}: {because}.\n{_NEXT.get(kind, _NEXT_OTHERWISE)}"


# What a person misses when a message never reaches them, in words a link worker acts on.
_MISSES = {
    Purpose.PRE_BRIEF: "the information before {title}: where to go, who will be there, "
    "and how travel and costs are paid",
    Purpose.REMINDER: "the reminder about {title}",
    Purpose.TIME_CHANGED: "the news that {title} has a new time",
    Purpose.CANCELLATION: "the news that {title} is cancelled",
}


def what_they_will_miss(message: Message, due: datetime | None) -> str:
    """The task for a link worker when nothing agreed can reach someone in time: who,
    what they will miss, by when, and why no message or call can do it."""
    expert, engagement = message.expert, message.engagement
    title = engagement.title if engagement is not None else "what we planned with them"
    missed = _MISSES.get(message.purpose, f"a message ({in_sentence(message.purpose)})")
    by = spoken_datetime(due, expert.time_zone) if due is not None else "as soon as you can"
    lines = [
        f"No message we are allowed to send can reach {expert.preferred_name} in time, and "
        "they have not agreed to phone calls.",
        f"Unless someone tells them by {by}, they will miss {missed.format(title=title)}.",
    ]
    if engagement is not None:
        lines.append(f"It starts {spoken_datetime(engagement.starts_at, expert.time_zone)}.")
    lines.append(
        "Find a safe way to reach them (in person, or through someone they trust), or check "
        "their contact details and consent with them."
    )
    return "\n".join(lines)


TASK_TITLES = {
    TaskKind.PHONE_CALL: "Phone call to make",
    TaskKind.DELIVERY_PROBLEM: "A message could not be sent",
    TaskKind.CHECK_POSSIBLE_SEND: "Check whether a message reached someone",
    TaskKind.VENUE_VISIT: "Someone must go to the venue",
    TaskKind.REIMBURSE_COSTS: "Pay back costs",
    TaskKind.APPROVE_PASTORAL: "Approve a keeping-in-touch message",
    TaskKind.MISSED_YOU: "Send a warm note to someone who missed a meeting",
    TaskKind.WELCOME_BACK: "Get in touch gently: a pause has ended",
    TaskKind.GET_IN_TOUCH: "Check in with someone you have not heard from",
}


async def open_phone_task_for_cancellation(
    session: AsyncSession, engagement: Engagement, expert: Expert, now: datetime
) -> None:
    """A written notice cannot be relied on in time: a person must phone."""
    staff = responsible_staff(expert.link_worker, local_today(now, expert.time_zone))
    await open_task(
        session,
        kind=TaskKind.PHONE_CALL,
        title="Phone about a cancellation: the written notice cannot be relied on",
        details=f"Phone {expert.preferred_name} to say that {engagement.title} "
        f"({spoken_datetime(engagement.starts_at, expert.time_zone)}) is cancelled. Once you "
        "have, press \u201cTold by phone\u201d for them on the engagement's page, with a "
        "note of what was said.",
        assignee=staff,
        expert=expert,
        engagement=engagement,
        urgent=True,
        due_at=engagement.starts_at - timedelta(hours=2),
        now=now,
        dedupe_key=f"eng{engagement.id}:exp{expert.id}:cancel-call",
    )


async def open_venue_task(session: AsyncSession, engagement: Engagement, now: datetime) -> None:
    task = await open_task(
        session,
        kind=TaskKind.VENUE_VISIT,
        title="Someone must go to the venue to meet anyone who comes",
        details=f"{engagement.title} was cancelled with less than 24 hours' notice. Unless "
        "everyone on its call list has been told in person or by phone, someone must be at the "
        "venue at the start time to meet anyone who comes. The engagement's page shows who "
        "is still to be told.",
        assignee=engagement.lead,
        engagement=engagement,
        urgent=True,
        due_at=engagement.starts_at,
        now=now,
        dedupe_key=f"eng{engagement.id}:venue",
    )
    if task.status is TaskStatus.DONE and task.outcome == VENUE_STOOD_DOWN:
        # Stood down once everyone then needing a call was told; someone new needs one now.
        task.status, task.outcome, task.done_at = TaskStatus.OPEN, None, None

"""`linkline engagements` afterwards: cancelling, who was told, who came, and outcomes.

These commands are registered on `bot.cli.engagements.app`, in the order help lists them.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, local, open_app, run
from bot.services.engagements import lifecycle as service
from bot.services.engagements.attendance import WORDS_HELP, parse_attendance, record_attendance
from bot.services.engagements.cancellations import CallList, record_told
from bot.services.experts.profile import find_expert
from scheduling.planning.planner import PlanReport


def plan_report(report: PlanReport) -> str:
    """What a change did to the contact plan, in one line."""
    return (
        f"Contact plan: {report.added} added, {report.moved} moved, "
        f"{report.cancelled} cancelled, {report.unchanged} unchanged."
    )


def cancel(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    reason: str = typer.Option(..., "--reason", help="Why (kept for staff, never sent)."),
) -> None:
    """Cancel: everyone invited is told, and under 24 hours' notice people get phone tasks."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            report = await service.cancel(
                session, engagement, reason, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(
                f"Cancelled. {plan_report(report)} See `linkline tasks` for calls to make."
            )

    run(action)


def attendance(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    expert: str = typer.Argument(..., help="Expert id or ref."),
    words: list[str] = typer.Argument(..., help="came or missed (also: attended, yes; no)."),
) -> None:
    """Record whether someone came. Nothing is ever sent to them automatically.

    "missed" gives their link worker a task with a suggested warm, no-blame note to send
    themselves; two or more missed in a row also give a task to check in by a safe route.
    """
    came = parse_attendance(" ".join(words))
    if came is None:
        fail(f"'{escape(' '.join(words))}' is not an attendance: use {WORDS_HELP}", 2)

    async def action() -> list[str]:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            result = await record_attendance(
                session, engagement, person, came, now=built.clock.now(), actor=CLI_ACTOR
            )
            lines = [f"Recorded that expert {escape(expert)} {'came' if came else 'missed it'}."]
            if result.withdrawn_tasks:
                lines.append(f"{result.withdrawn_tasks} follow-up task(s) are no longer needed.")
            if result.no_followup_because:
                lines.append(f"No follow-up is suggested: {result.no_followup_because}.")
            if result.followup is not None:
                lines.append(
                    f"Task {result.followup.note.id}: a warm note for a person to send "
                    "(nothing is sent automatically)."
                )
                if result.followup.check_in is not None:
                    lines.append(
                        f"Task {result.followup.check_in.id}: {result.followup.in_a_row} missed "
                        "in a row, so check in with them by their preferred safe route."
                    )
                lines.append("See `linkline tasks`.")
            return lines

    for line in run(action):
        console.print(line, highlight=False)


def told(
    engagement_id: int = typer.Argument(..., help="The cancelled engagement's id."),
    expert: str = typer.Argument(..., help="Expert id or ref."),
    note: str | None = typer.Option(
        None, "--note", help="What happened, e.g. 'spoke to her at 3pm'. Kept with the task."
    ),
) -> None:
    """Record that someone was told of a cancellation in person or by phone.

    Their phone task is closed with the note. When everyone who needed a call has been
    told, the "someone must go to the venue" task is closed too.
    """

    async def action() -> list[str]:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            result = await record_told(
                session, engagement, person, note=note, now=built.clock.now(), actor=CLI_ACTOR
            )
            when = local(result.invitation.told_verbally_at, built.settings.default_time_zone)
            lines = [
                f"Already recorded: expert {escape(expert)} was told on {when}."
                if result.already_recorded
                else f"Recorded that expert {escape(expert)} was told."
            ]
            outcome = result.outcome
            if outcome.call_task is not None:
                lines.append(f"Phone task {outcome.call_task.id} is done.")
            if outcome.venue_task is not None:
                lines.append(
                    f"Everyone who needed a call has been told: venue task "
                    f"{outcome.venue_task.id} is done, nobody needs to go to the venue."
                )
            elif outcome.still_to_phone:
                lines.append(
                    f"Still to phone: {len(outcome.still_to_phone)} "
                    f"(see `linkline engagements show {engagement_id}`)."
                )
            return lines

    for line in run(action):
        console.print(line, highlight=False)


def show_calls(calls: CallList, tz: str) -> None:
    """For a cancelled engagement: who is still to be phoned, who was told and when."""
    table = Table("expert", "told in person or by phone (UK time)", title="Telling people")
    for i in calls.still_to_phone:
        table.add_row(escape(i.expert.preferred_name), "still to phone")
    for i in calls.told:
        table.add_row(escape(i.expert.preferred_name), local(i.told_verbally_at, tz))
    if calls.still_to_phone or calls.told:
        console.print(table)
    if calls.venue is not None:
        console.print(
            f"Someone must be at the venue at the start (task {calls.venue.id}) until "
            "everyone who needs a call has been told."
        )


def outcomes(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    text: str = typer.Option(
        ..., "--text", help="What changed because of what people said, in plain words."
    ),
) -> None:
    """Record outcomes and send "you said, we did" to everyone who came."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            report = await service.record_outcomes(
                session, engagement, text, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(
                f'Outcomes recorded. "You said, we did" planned for {report.added} '
                f"people who came; {report.unchanged} already had theirs."
            )

    run(action)

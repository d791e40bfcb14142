"""`linkline engagements`: set up meetings, invite experts, move or cancel them."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from bot.cli.common import CLI_ACTOR, console, fail, local, open_app, parse_local_datetime, run
from bot.services.engagements import lifecycle as service
from bot.services.engagements.attendance import WORDS_HELP, parse_attendance, record_attendance
from bot.services.engagements.cancellations import CallList, cancellation_calls, record_told
from bot.services.experts.profile import find_expert
from bot.services.staff.accounts import find_staff
from scheduling.planning.planner import PlanReport
from store.enums import EngagementStatus, InvitationAnswer
from store.models import Message

app = typer.Typer(help="Engagements: meetings, sessions and events.", no_args_is_help=True)
TZ = "Europe/London"


def _report(report: PlanReport) -> str:
    return (
        f"Contact plan: {report.added} added, {report.moved} moved, "
        f"{report.cancelled} cancelled, {report.unchanged} unchanged."
    )


@app.command("create")
def create(
    title: str = typer.Option(..., "--title", help="What people will call it."),
    start: str = typer.Option(..., "--start", help="Local start, e.g. '2026-03-17 14:00'."),
    end: str = typer.Option(..., "--end", help="Local end, e.g. '2026-03-17 16:00'."),
    lead: str = typer.Option(..., "--lead", help="Email of the staff member leading it."),
    purpose: str | None = typer.Option(None, "--purpose", help="What it's for."),
    objectives: str | None = typer.Option(None, "--objectives"),
    outcomes: str | None = typer.Option(None, "--outcomes", help="What should come out of it."),
    venue: str | None = typer.Option(None, "--venue", help="Venue name."),
    address: str | None = typer.Option(None, "--address", help="Venue address."),
    accessibility: str | None = typer.Option(None, "--accessibility"),
    online_link: str | None = typer.Option(None, "--online-link"),
    meeting_point: str | None = typer.Option(
        None, "--meeting-point", help="Who meets people, where."
    ),
    practitioners: str | None = typer.Option(None, "--practitioners", help="Who will be there."),
    expenses: str | None = typer.Option(None, "--expenses", help="Travel and costs covered."),
    how_to_claim: str | None = typer.Option(None, "--how-to-claim"),
    paperwork: str | None = typer.Option(None, "--paperwork", help="Papers, and when they come."),
    pre_brief_days: int | None = typer.Option(None, "--pre-brief-days"),
    reminder_days: int | None = typer.Option(None, "--reminder-days"),
    check_in_days: int | None = typer.Option(None, "--check-in-days"),
    de_brief_days: int | None = typer.Option(None, "--de-brief-days"),
    kind: str = typer.Option(
        "meeting",
        "--kind",
        help="The kind of engagement (its contact-plan settings: see `linkline plans`).",
    ),
    publish: bool = typer.Option(False, "--publish", help="Publish now (all details needed)."),
) -> None:
    """Create an engagement (a draft until every detail people need is filled in)."""
    starts = parse_local_datetime(start, TZ, "--start")
    ends = parse_local_datetime(end, TZ, "--end")
    overrides = {
        k: v
        for k, v in {
            "pre_brief_days": pre_brief_days,
            "reminder_days": reminder_days,
            "check_in_days": check_in_days,
            "de_brief_days": de_brief_days,
        }.items()
        if v is not None
    }
    details = {
        "purpose": purpose,
        "objectives": objectives,
        "expected_outcomes": outcomes,
        "venue_name": venue,
        "venue_address": address,
        "venue_accessibility": accessibility,
        "online_link": online_link,
        "meeting_point": meeting_point,
        "practitioners": practitioners,
        "transport_and_expenses": expenses,
        "how_to_claim": how_to_claim,
        "paperwork": paperwork,
    }

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            staff = await find_staff(session, lead)
            if staff is None:
                fail(f"no staff member with email {lead!r}")
            now = built.clock.now()
            engagement = await service.create_engagement(
                session,
                title=title,
                starts_at=starts,
                ends_at=ends,
                lead=staff,
                details=details,
                plan_overrides=overrides,
                base_offsets=built.offsets,
                time_zone=TZ,
                now=now,
                actor=CLI_ACTOR,
                kind=kind,
            )
            console.print(f"Created engagement {engagement.id} (draft).")
            missing = engagement.missing_information()
            if publish:
                await service.publish(session, engagement, built.offsets, now=now, actor=CLI_ACTOR)
                console.print("Published.")
            elif missing:
                console.print("Before publishing, fill in: " + ", ".join(missing))

    run(action)


@app.command("publish")
def publish(engagement_id: int = typer.Argument(..., help="The engagement's id.")) -> None:
    """Publish a draft, so invited experts get their contact plan."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            report = await service.publish(
                session, engagement, built.offsets, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(f"Published. {_report(report)}")

    run(action)


@app.command("list")
def list_() -> None:
    """Show all engagements, soonest first."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "title", "starts (UK time)", "status")
            for e in await service.list_engagements(session):
                table.add_row(str(e.id), e.title, local(e.starts_at, TZ), e.status.value)
            console.print(table)

    run(action)


@app.command("show")
def show(engagement_id: int = typer.Argument(..., help="The engagement's id.")) -> None:
    """Show one engagement: its details, who is invited and the planned messages."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            e = await service.get_engagement(session, engagement_id)
            console.print(f"[bold]{e.title}[/] ({e.status.value})")
            console.print(
                f"{local(e.starts_at, TZ)} to {local(e.ends_at, TZ)}; lead: {e.lead.name}"
            )
            missing = e.missing_information()
            if missing:
                console.print("Still needed before publishing: " + ", ".join(missing))
            invited = Table("expert", "answer", "support needs")
            for i in e.invitations:
                invited.add_row(i.expert.preferred_name, i.answer.value, i.support_needs or "")
            console.print(invited)
            if e.status is EngagementStatus.CANCELLED:
                _show_calls(await cancellation_calls(session, e))
            plan = Table("message", "expert", "purpose", "due (UK time)", "status")
            messages = await session.scalars(
                select(Message).where(Message.engagement_id == e.id).order_by(Message.due_at)
            )
            for m in messages:
                plan.add_row(
                    str(m.id),
                    str(m.expert_id),
                    m.purpose.value,
                    local(m.due_at, TZ),
                    m.status.value,
                )
            console.print(plan)

    run(action)


@app.command("invite")
def invite(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    experts: list[str] = typer.Argument(..., help="Expert ids or refs."),
) -> None:
    """Invite experts; their contact plan is written at once if it is published."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            found = []
            for key in experts:
                expert = await find_expert(session, key)
                if expert is None:
                    fail(f"no expert with id or ref {key!r}")
                found.append(expert)
            report = await service.invite(
                session, engagement, found, built.offsets, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(f"Invited {len(found)}. {_report(report)}")

    run(action)


@app.command("answer")
def answer(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    expert: str = typer.Argument(..., help="Expert id or ref."),
    reply: str = typer.Argument(..., help="yes, no or maybe."),
    support_needs: str | None = typer.Option(None, "--support-needs"),
) -> None:
    """Record an expert's answer. "No" stops every message about it, and is never chased."""
    try:
        chosen = InvitationAnswer(reply.strip().lower())
    except ValueError:
        fail("the answer must be yes, no or maybe", 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            report = await service.record_answer(
                session,
                engagement,
                person.id,
                chosen,
                built.offsets,
                support_needs=support_needs,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )
            console.print(f"Recorded '{chosen.value}'. {_report(report)}")

    run(action)


@app.command("move")
def move(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    start: str = typer.Option(..., "--start", help="New local start, e.g. '2026-03-18 14:00'."),
    end: str = typer.Option(..., "--end", help="New local end."),
) -> None:
    """Move an engagement: unsent messages move too, and people already told get one notice."""
    starts = parse_local_datetime(start, TZ, "--start")
    ends = parse_local_datetime(end, TZ, "--end")

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement_id)
            report = await service.move(
                session,
                engagement,
                starts,
                ends,
                built.offsets,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )
            console.print(f"Moved. {_report(report)}")

    run(action)


@app.command("cancel")
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
            console.print(f"Cancelled. {_report(report)} See `linkline tasks` for calls to make.")

    run(action)


@app.command("attendance")
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


@app.command("told")
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
            when = local(result.invitation.told_verbally_at, TZ)
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


def _show_calls(calls: CallList) -> None:
    """For a cancelled engagement: who is still to be phoned, who was told and when."""
    table = Table("expert", "told in person or by phone (UK time)", title="Telling people")
    for i in calls.still_to_phone:
        table.add_row(escape(i.expert.preferred_name), "still to phone")
    for i in calls.told:
        table.add_row(escape(i.expert.preferred_name), local(i.told_verbally_at, TZ))
    if calls.still_to_phone or calls.told:
        console.print(table)
    if calls.venue is not None:
        console.print(
            f"Someone must be at the venue at the start (task {calls.venue.id}) until "
            "everyone who needs a call has been told."
        )


@app.command("outcomes")
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

"""`linkline engagements`: set up meetings, invite experts, move or cancel them."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli import engagements_afterwards as afterwards
from bot.cli.common import (
    CLI_ACTOR,
    console,
    fail,
    load_settings,
    local,
    open_app,
    parse_local_datetime,
    run,
)
from bot.cli.engagements_afterwards import plan_report, show_calls
from bot.services.engagements import lifecycle as service
from bot.services.engagements.cancellations import cancellation_calls
from bot.services.engagements.queries import engagement_outbox, list_engagements
from bot.services.engagements.rules import missing_information
from bot.services.experts.profile import find_expert
from bot.services.staff.accounts import find_staff
from scheduling.text.words import label
from store.enums import EngagementStatus, InvitationAnswer

app = typer.Typer(help="Engagements: meetings, sessions and events.", no_args_is_help=True)


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
    # Typed in the organisation's time zone, read before anything opens.
    settings = load_settings()
    starts = parse_local_datetime(start, settings.default_time_zone, "--start")
    ends = parse_local_datetime(end, settings.default_time_zone, "--end")
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
        async with open_app(settings=settings) as built, built.sessions.begin() as session:
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
                time_zone=built.settings.default_time_zone,
                now=now,
                actor=CLI_ACTOR,
                kind=kind,
            )
            console.print(f"Created engagement {engagement.id} (draft).")
            missing = missing_information(engagement)
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
            console.print(f"Published. {plan_report(report)}")

    run(action)


@app.command("list")
def list_() -> None:
    """Show all engagements, soonest first."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "title", "starts (UK time)", "status")
            tz = built.settings.default_time_zone
            for e in await list_engagements(session):
                table.add_row(str(e.id), e.title, local(e.starts_at, tz), label(e.status))
            console.print(table)

    run(action)


@app.command("show")
def show(engagement_id: int = typer.Argument(..., help="The engagement's id.")) -> None:
    """Show one engagement: its details, who is invited and the planned messages."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            e = await service.get_engagement(session, engagement_id)
            tz = built.settings.default_time_zone
            console.print(f"[bold]{e.title}[/] ({label(e.status)})")
            console.print(
                f"{local(e.starts_at, tz)} to {local(e.ends_at, tz)}; lead: {e.lead.name}"
            )
            missing = missing_information(e)
            if missing:
                console.print("Still needed before publishing: " + ", ".join(missing))
            invited = Table("expert", "answer", "support needs")
            for i in e.invitations:
                invited.add_row(i.expert.preferred_name, label(i.answer), i.support_needs or "")
            console.print(invited)
            if e.status is EngagementStatus.CANCELLED:
                show_calls(await cancellation_calls(session, e), tz)
            # Purposes and statuses as `linkline log` filters by them.
            plan = Table("message", "expert", "purpose", "due (UK time)", "status")
            for m in await engagement_outbox(session, e.id):
                plan.add_row(
                    str(m.id),
                    str(m.expert_id),
                    m.purpose.value,
                    local(m.due_at, tz),
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
            console.print(f"Invited {len(found)}. {plan_report(report)}")

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
            console.print(f"Recorded '{chosen.value}'. {plan_report(report)}")

    run(action)


@app.command("move")
def move(
    engagement_id: int = typer.Argument(..., help="The engagement's id."),
    start: str = typer.Option(..., "--start", help="New local start, e.g. '2026-03-18 14:00'."),
    end: str = typer.Option(..., "--end", help="New local end."),
) -> None:
    """Move an engagement: unsent messages move too, and people already told get one notice."""
    # Typed in the organisation's time zone, read before anything opens.
    settings = load_settings()
    starts = parse_local_datetime(start, settings.default_time_zone, "--start")
    ends = parse_local_datetime(end, settings.default_time_zone, "--end")

    async def action() -> None:
        async with open_app(settings=settings) as built, built.sessions.begin() as session:
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
            console.print(f"Moved. {plan_report(report)}")

    run(action)


# Cancelling and afterwards live in their own module, listed after these in help.
for _name, _command in (
    ("cancel", afterwards.cancel),
    ("attendance", afterwards.attendance),
    ("told", afterwards.told),
    ("outcomes", afterwards.outcomes),
):
    app.command(_name)(_command)

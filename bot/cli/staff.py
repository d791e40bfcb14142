"""`linkline staff`: link workers and administrators."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.services.staff import create_staff, find_staff, list_staff, set_alert_route, set_cover
from store.enums import Channel, Role

app = typer.Typer(help="Staff: link workers and administrators.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Full name, as experts know them."),
    email: str = typer.Option(..., "--email", help="Their work email (used to sign in later)."),
    admin: bool = typer.Option(False, "--admin", help="An administrator, not a link worker."),
) -> None:
    """Add a staff member."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            role = Role.ADMIN if admin else Role.LINK_WORKER
            staff = await create_staff(
                session, name=name, email=email, role=role, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(f"Added {staff.name} ({role.value}) as staff {staff.id}.")

    run(action)


@app.command("list")
def list_() -> None:
    """Show all staff, and who covers for whom."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "name", "email", "role", "cover", "away")
            for s in await list_staff(session):
                away = f"{s.away_from} to {s.away_until}" if s.away_from else ""
                table.add_row(str(s.id), s.name, s.email, s.role.value, str(s.cover_id or ""), away)
            console.print(table)

    run(action)


@app.command("cover")
def cover(
    staff: str = typer.Argument(..., help="Email or id of the person who will be away."),
    by: str = typer.Option(..., "--by", help="Email or id of the person covering."),
    away_from: str = typer.Option(..., "--from", help="First day away, e.g. 2026-03-02."),
    away_until: str = typer.Option(..., "--until", help="Last day away, e.g. 2026-03-06."),
) -> None:
    """Set who covers for a link worker while they are away."""
    try:
        first, last = date.fromisoformat(away_from), date.fromisoformat(away_until)
    except ValueError:
        fail("dates must look like 2026-03-02", 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person, covering = await find_staff(session, staff), await find_staff(session, by)
            if person is None or covering is None:
                fail(f"no staff member {staff if person is None else by!r}")
            await set_cover(
                session, person, covering, first, last, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(f"{covering.name} covers for {person.name} from {first} to {last}.")

    run(action)


@app.command("alerts")
def alerts(
    staff: str = typer.Argument(..., help="Email or id of the member of staff."),
    sms: str | None = typer.Option(None, "--sms", help="Text alerts to this phone number."),
    telegram: str | None = typer.Option(
        None, "--telegram", help="Send alerts to this Telegram chat id."
    ),
    email: bool = typer.Option(False, "--email", help="Send alerts to their work email."),
) -> None:
    """Choose where urgent alerts reach them (a worrying reply, one waiting too long).

    Alerts say only that a task is waiting: no names and no words from the reply.
    """
    chosen = [c for c, on in ((Channel.SMS, sms), (Channel.TELEGRAM, telegram)) if on]
    if email:
        chosen.append(Channel.EMAIL)
    if len(chosen) != 1:
        fail("give exactly one of --sms NUMBER, --telegram CHAT_ID or --email", 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_staff(session, staff)
            if person is None:
                fail(f"no staff member {staff!r}")
            await set_alert_route(
                session,
                person,
                chosen[0],
                sms or telegram,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )
            where = {Channel.SMS: "by text", Channel.TELEGRAM: "on Telegram"}.get(
                chosen[0], f"by email to {person.email}"
            )
            console.print(f"Urgent alerts for {person.name} now go {where}.", highlight=False)

    run(action)

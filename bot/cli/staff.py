"""`linkline staff`: link workers and administrators."""

from __future__ import annotations

import sys
from datetime import date

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, err_console, fail, open_app, run
from bot.services.staff.accounts import (
    create_staff,
    find_staff,
    list_staff,
    set_alert_route,
    set_cover,
)
from bot.services.staff.sign_in import check_password_rules, set_password, unlock
from scheduling.text.words import in_sentence, label
from store.enums import Channel, Role
from store.errors import Refused

app = typer.Typer(help="Staff: link workers and administrators.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Full name, as experts know them."),
    email: str = typer.Option(..., "--email", help="Their work email (used to sign in later)."),
    admin: bool = typer.Option(False, "--admin", help="An administrator, not a link worker."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read their web password from standard input."
    ),
) -> None:
    """Add a staff member. At a terminal it asks for their password for the web pages."""
    password = _read_password(password_stdin, email=email)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            role = Role.ADMIN if admin else Role.LINK_WORKER
            now = built.clock.now()
            staff = await create_staff(
                session, name=name, email=email, role=role, now=now, actor=CLI_ACTOR
            )
            if password is not None:
                await set_password(
                    session,
                    staff,
                    password,
                    passwords=built.passwords,
                    now=now,
                    actor=CLI_ACTOR,
                )
            console.print(
                f"Added {staff.name} ({in_sentence(role)}) as staff {staff.id}.", highlight=False
            )
            if password is None:
                console.print(
                    "They cannot sign in yet: set a password with "
                    f"`linkline staff password {staff.email}`."
                )

    run(action)


@app.command("password")
def password_(
    email: str = typer.Argument(..., help="Their work email."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input."
    ),
) -> None:
    """Set a new web password; signs them out everywhere and lifts a lockout."""
    password = _read_password(password_stdin, email=email, required=True)
    assert password is not None

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            staff = await find_staff(session, email)
            if staff is None:
                fail(f"no staff member with email {email!r}: `linkline staff list` shows them")
            await set_password(
                session,
                staff,
                password,
                passwords=built.passwords,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )
            console.print(f"New password set for {staff.email}.")

    run(action)


@app.command("unlock")
def unlock_(email: str = typer.Argument(..., help="Their work email.")) -> None:
    """Let someone locked out by wrong passwords try again at once."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            staff = await find_staff(session, email)
            if staff is None:
                fail(f"no staff member with email {email!r}: `linkline staff list` shows them")
            await unlock(session, staff, now=built.clock.now(), actor=CLI_ACTOR)
            console.print(f"{staff.email} can sign in again.")

    run(action)


def _read_password(from_stdin: bool, *, email: str, required: bool = False) -> str | None:
    """From stdin, or asked twice at a terminal; checked here (with the same rules the
    service applies) so a weak one costs nothing: at a terminal the reason is said and the
    question asked again, otherwise it is one line and exit code 1."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif at_a_terminal():
        while True:
            password = typer.prompt(
                "Password for the web pages", hide_input=True, confirmation_prompt=True
            )
            try:
                check_password_rules(password, email=email)
            except Refused as exc:
                err_console.print(
                    f"That password will not do: {exc}. Try another.", highlight=False
                )
                continue
            return password
    elif required:
        fail("give the password on standard input with --password-stdin")
    else:
        return None
    try:
        check_password_rules(password, email=email)
    except Refused as exc:
        fail(f"that password will not do: {exc}")
    return password


def at_a_terminal() -> bool:
    """Whether a person is typing: only then is a question asked (and asked again)."""
    return sys.stdin.isatty()


@app.command("list")
def list_() -> None:
    """Show all staff, and who covers for whom."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "name", "email", "role", "cover", "away")
            for s in await list_staff(session):
                away = f"{s.away_from} to {s.away_until}" if s.away_from else ""
                table.add_row(
                    str(s.id), s.name, s.email, label(s.role), str(s.cover_id or ""), away
                )
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

"""`linkline experts`: the people Linkline keeps in touch with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    CLI_ACTOR,
    console,
    err_console,
    fail,
    load_settings,
    local,
    open_app,
    run,
)
from bot.cli.expert_contact import new_address
from bot.cli.expert_files import named, progress_bar, read_text, show_problems, write_private
from bot.cli.expert_leaving import not_safe_word, withdraw
from bot.cli.expert_talk import message, note, thread
from bot.cli.telegram import bot_username
from bot.cli.who import expert_and_staff
from bot.services.experts.consent import set_channels, set_consent
from bot.services.experts.csv_files import (
    ExpertExport,
    RowError,
    check_against_database,
    export_experts,
    import_experts,
    parse_csv,
)
from bot.services.experts.profile import (
    describe_status,
    find_expert,
    load_experts,
    pause_expert,
    resume_expert,
)
from bot.services.experts.telegram_links import GivenLink, give_link
from bot.services.staff.accounts import find_staff
from scheduling.clock import local_today
from store.enums import Channel

app = typer.Typer(
    help="Experts by experience: list, import and export; consent and channels; "
    "Telegram links; pause and resume contact; write to them and read the conversation; "
    "the not-safe word; withdraw.",
    no_args_is_help=True,
)
app.command("new-address")(new_address)
app.command("message")(message)
app.command("thread")(thread)
app.command("note")(note)
app.command("withdraw")(withdraw)
app.command("not-safe-word")(not_safe_word)


@app.command("list")
def list_() -> None:
    """Show every expert with their channels and consent (contact details stay hidden)."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "ref", "name", "channels", "consent", "status", "link worker")
            now = built.clock.now()
            for e in await load_experts(session):
                consent = ", ".join(c.channel.value for c in e.consents if c.allowed) or "none"
                channels = " > ".join(c.value for c in e.channel_order())
                # escape: a name like "[Jo]" is text to show, not formatting to apply
                names = escape(e.ref or ""), escape(e.preferred_name)
                table.add_row(str(e.id), *names, channels, consent, describe_status(e, now),
                              escape(e.link_worker.name))  # fmt: skip
            console.print(table)

    run(action)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A CSV file with one expert on each row."),
) -> None:
    """Add experts from a CSV file: all of them, or none if any row has a problem.

    Problems are listed by line and column, so you can fix the file and run this again.

    The columns are described in the README.
    """
    text = read_text(file)
    rows, errors = parse_csv(text, time_zone=load_settings().default_time_zone)

    async def action() -> list[RowError]:
        async with open_app() as built, built.sessions.begin() as session:
            if errors:  # also check the good rows, so one pass shows everything to fix
                return errors + await check_against_database(session, built.cipher, rows)
            with progress_bar(len(rows)) as advance:
                return await import_experts(session, built.cipher, rows, actor=CLI_ACTOR,
                                            now=built.clock.now(), progress=advance)  # fmt: skip

    problems = run(action)
    if problems:
        show_problems(file, problems)
        raise typer.Exit(1)
    unconfirmed = sum(1 for r in rows if not any(c.allowed for c in r.expert.consent.values()))
    console.print(f"Imported {_experts(len(rows))}.")
    if unconfirmed:
        console.print(
            f"No confirmed consent yet for {_experts(unconfirmed)}: Linkline sends them "
            "nothing until a person confirms a safe channel with them."
        )


@app.command("export")
def export(
    file: Path = typer.Argument(..., help="Where to write the CSV file."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it already exists."),
) -> None:
    """Write every expert, with their contact details, to a CSV file only you can read.

    The file opens in a spreadsheet and can be imported again with `linkline experts import`.

    Consent is left out for anyone paused, withdrawn or opted out: a re-import sends them nothing.
    """
    if file.exists() and not force:
        fail(f"{named(file)} already exists: choose another name, or add --force to replace it")

    async def action() -> ExpertExport:
        async with open_app() as built, built.sessions.begin() as session:
            result = await export_experts(session, actor=CLI_ACTOR, now=built.clock.now())
            write_private(file, result.text, force=force)  # a failed write records no export
            return result

    result = run(action)
    console.print(
        f"Exported {_experts(result.count)} to {named(file)}. It holds personal contact details: "
        "keep it safe and delete it when done.",
        highlight=False,
    )
    if result.consent_withheld:
        console.print(
            f"Consent is left out for {_experts(result.consent_withheld)} who paused, withdrew "
            "or opted out of a channel, so importing this file sends them nothing."
        )


def _experts(count: int) -> str:
    return f"{count} expert{'' if count == 1 else 's'}"


@app.command("pause")
def pause(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    until: str | None = typer.Option(
        None, "--until", help="The day contact may start again, e.g. 2026-03-01."
    ),
) -> None:
    """Pause contact, keeping their place and invitations: only news of things they said
    yes to (a cancellation, a new time) still reaches them.

    Without --until the pause lasts until they get in touch (then `experts resume`). With
    --until it ends on that day, and their link worker gets a task to get in touch gently.
    """
    ends = _parse_date(until, "--until") if until is not None else None

    async def action() -> str:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            now = built.clock.now()
            await pause_expert(session, person, until=ends, now=now, actor=CLI_ACTOR)
            return describe_status(person, now)

    console.print(f"Expert {escape(expert)} is now {run(action)}.", highlight=False)


@app.command("resume")
def resume(expert: str = typer.Argument(..., help="Expert id or ref.")) -> None:
    """End a pause: contact starts again. Messages held back during the pause stay unsent."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            await resume_expert(session, person, now=built.clock.now(), actor=CLI_ACTOR)

    run(action)
    console.print(f"Expert {escape(expert)} is active again.", highlight=False)


@dataclass(frozen=True)
class _NewLink:
    given: GivenLink
    time_zone: str
    username: str | None


@app.command("telegram-link")
def telegram_link(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Email or id of who gives them the link (default: their link "
        "worker, or cover while away).",
    ),
) -> None:
    """Make a one-time link that connects the expert's Telegram to Linkline.

    Give it to them in person, or by a route they chose as safe. Tapping it opens the bot
    and links their chat. It works once, expires after LINKLINE_TELEGRAM_LINK_HOURS, and
    making a new one stops the old one. Linking is not consent: Telegram is used only once
    a person has talked it through with them and recorded their consent.
    """

    async def action() -> _NewLink:
        async with open_app() as built:
            async with built.sessions.begin() as session:
                person = await find_expert(session, expert)
                if person is None:
                    fail(f"no expert with id or ref {escape(expert)!r}")
                giver = None
                if by is not None:
                    giver = await find_staff(session, by)
                    if giver is None:
                        fail(f"no staff member with email or id {escape(by)!r}")
                given = await give_link(
                    session,
                    person,
                    giver,
                    cipher=built.cipher,
                    now=built.clock.now(),
                    hours=built.settings.telegram_link_hours,
                    actor=CLI_ACTOR,
                )
                time_zone = person.time_zone
            # After the commit: the code stands even if Telegram cannot be asked its name.
            username = await bot_username(built.settings)
        return _NewLink(given, time_zone, username)

    made = run(action)
    until = f"{local(made.given.code.expires_at, made.time_zone)} ({made.time_zone} time)"
    link = made.given.code.link(made.username)
    if link is not None:
        console.print(f"Telegram link for expert {escape(expert)}, until {until}:", highlight=False)
        typer.echo(link)
    else:
        console.print(
            f"Telegram code for expert {escape(expert)}, until {until}. Ask them to open the "
            "bot in Telegram and send:",
            highlight=False,
        )
        typer.echo(made.given.code.start_command)
        console.print(
            "Set TELEGRAM_BOT_USERNAME (the bot's username from BotFather) to get a link "
            "they can tap instead.",
            highlight=False,
        )
    console.print(
        "It works once. Give it to them in person or by a route they chose; a new link "
        "stops this one."
        + (
            " Their Telegram chat on file is replaced when they use it."
            if made.given.replaces_chat
            else ""
        ),
        highlight=False,
    )
    if not made.given.consented:
        err_console.print(
            f"[yellow]Warning:[/] no Telegram consent is recorded for expert {escape(expert)}. "
            "Messages will not go by Telegram until a person has talked it through with them "
            "(who else can see their Telegram, linked devices, lock-screen previews) and "
            f"records it, once the chat is linked: `linkline experts consent {escape(expert)} "
            "telegram allow --by EMAIL`.",
            highlight=False,
            soft_wrap=True,
        )


def _parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what} '{escape(text.strip())}' is not a date: use the form 2026-03-01", 2)


def _channel(text: str, what: str) -> Channel:
    try:
        return Channel.parse(text)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        fail(f"{what} {text!r} is not a channel: use one of {names}", 2)


@app.command("consent")
def consent(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    channel: str = typer.Argument(..., help="sms, telegram, email, letter or phone."),
    decision: str = typer.Argument(..., help="allow or withdraw."),
    by: str = typer.Option(..., "--by", help="Email of the person who confirmed it with them."),
    details_safe: bool = typer.Option(
        False, "--details-safe", help="Full details (venue, times) may be sent on this channel."
    ),
    on: str | None = typer.Option(
        None, "--on", help="The day it was confirmed with them (default: today)."
    ),
) -> None:
    """Record what a person confirmed with the expert: a channel is safe to use, or no longer.

    Nothing is sent on a channel until this is recorded (for Telegram, after they linked
    their chat: `experts telegram-link`). Withdrawing takes effect at once.
    """
    kind = _channel(channel, "channel")
    if decision not in ("allow", "withdraw"):
        fail(f"the decision must be allow or withdraw, not {decision!r}", 2)
    day = _parse_date(on, "--on") if on is not None else None

    async def action() -> str:
        async with open_app() as built, built.sessions.begin() as session:
            person, staff = await expert_and_staff(session, expert, by)
            now = built.clock.now()
            await set_consent(
                session,
                person,
                kind,
                allowed=decision == "allow",
                details_safe=details_safe,
                confirmed_by=staff,
                confirmed_on=day or local_today(now, person.time_zone),
                now=now,
                actor=CLI_ACTOR,
            )
            return staff.name

    name = run(action)
    if decision == "allow":
        detail = ", with full details" if details_safe else ", discreet messages only"
        console.print(f"{kind.value} is allowed for {expert}{detail} (confirmed by {name}).")
    else:
        console.print(f"Nothing more goes to {expert} by {kind.value}.", highlight=False)


@app.command("channels")
def channels(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    preferred: str = typer.Argument(..., help="The channel to try first."),
    fallback: list[str] = typer.Option(
        [], "--fallback", help="A channel to try next; repeat in the order they chose."
    ),
) -> None:
    """Set the channel they prefer, and the ones to fall back on, in their order."""
    first = _channel(preferred, "channel")
    others = [_channel(f, "--fallback") for f in fallback]

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            await set_channels(
                session, person, first, others, now=built.clock.now(), actor=CLI_ACTOR
            )

    run(action)
    order = " then ".join(c.value for c in dict.fromkeys([first, *others]))
    console.print(f"Messages to {expert} now go by {order}.", highlight=False)

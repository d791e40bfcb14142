"""`linkline experts message`, `thread` and `note`: the conversation with one expert.

A message is written through the same gate as everything else: the preview says which
channel and why, what a lock screen shows, how many texts it costs and when it will go,
and the words are refused (with the reason) when a rule stops them.
"""

from __future__ import annotations

import secrets

import typer
from rich.markup import escape
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.cli.common import CLI_ACTOR, console, fail, local, open_app, run
from bot.services.delivery.written import Preview, Writer, read_channel, send_written
from bot.services.delivery.written import preview as make_preview
from bot.services.experts.profile import find_expert, load_profile
from bot.services.inbox.conversation import add_note, conversation, notes
from bot.services.staff.access import scope_for
from bot.services.staff.accounts import find_staff
from scheduling.clock import local_today
from scheduling.rules.discreet_words import BlockedWords
from scheduling.text.words import in_sentence
from store import audit
from store.models import Expert, Staff


def writer_for(built: App) -> Writer:
    return Writer(
        built.channels, built.renderer, BlockedWords.load(), built.settings.default_time_zone
    )


def message(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    text: str = typer.Argument(..., help="Your words, as they should read them."),
    by: str = typer.Option(..., "--by", help="Email of the member of staff writing."),
    channel: str = typer.Option(
        "", "--channel", help="sms, telegram, email or letter; Linkline chooses when left out."
    ),
    preview_only: bool = typer.Option(
        False, "--preview", help="Only show what would happen; send nothing."
    ),
) -> None:
    """Write to an expert through Linkline: shows the preview, then queues the message for
    the gate (consent, STOP, pause, hold, safe times and the discreet word list apply)."""

    async def action() -> Preview:
        async with open_app() as built, built.sessions.begin() as session:
            person, staff = await _expert_and_staff(session, expert, by, built)
            writer = writer_for(built)
            now = built.clock.now()
            shown = make_preview(writer, person, text, now, channel=read_channel(channel))
            _print_preview(shown)
            if preview_only:
                return shown
            await send_written(
                session,
                writer,
                person,
                text,
                staff,
                now,
                token=secrets.token_hex(8),
                channel=shown.channel,
                actor=CLI_ACTOR,
            )
            return shown

    shown = run(action)
    if preview_only:
        console.print("Nothing was sent (--preview).")
    else:
        console.print(
            f"Queued {in_sentence(shown.channel)} to {expert}. {shown.goes_when}", highlight=False
        )


def thread(
    expert: str = typer.Argument(..., help="Expert id or ref."),
) -> None:
    """Show the whole conversation with an expert, oldest first, and the staff notes apart."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            zone = built.settings.default_time_zone
            turns = await conversation(session, person)
            kept = await notes(session, person.id)
            audit.record(
                session,
                actor=CLI_ACTOR,
                action="conversation.viewed",
                entity="expert",
                entity_id=person.id,
                at=built.clock.now(),
            )
        console.print(f"Conversation with {expert} (times in {zone})", highlight=False)
        if not turns:
            console.print("Nothing has passed between them and us yet.")
        for turn in turns:
            arrow = "from them" if turn.incoming else "to them"
            status = f" [{escape(turn.status)}]" if turn.status else ""
            console.print(
                f"{local(turn.at, zone)}  {escape(turn.how)}, {arrow}: "
                f"{escape(turn.what)}, {escape(turn.who)}{status}",
                highlight=False,
            )
            for line in turn.text.splitlines() or [""]:
                console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)
        console.print("\nStaff notes (they never see these)")
        if not kept:
            console.print("    No notes yet.")
        for note in kept:
            console.print(
                f"{local(note.created_at, zone)}  {escape(note.written_by.name)}: "
                f"{escape(note.body)}",
                highlight=False,
                soft_wrap=True,
            )

    run(action)


def note(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    text: str = typer.Argument(..., help="The note, for colleagues only."),
    by: str = typer.Option(..., "--by", help="Email of the member of staff writing."),
) -> None:
    """Keep a staff-only note on an expert's conversation; they never see it."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person, staff = await _expert_and_staff(session, expert, by, built)
            await add_note(session, person, staff, text, built.clock.now(), actor=CLI_ACTOR)

    run(action)
    console.print(f"Note kept on {expert}'s conversation, for staff only.", highlight=False)


async def _expert_and_staff(
    session: AsyncSession, key: str, email: str, built: App
) -> tuple[Expert, Staff]:
    """The expert, loaded for the rules, and a member of staff who may act for them."""
    person = await find_expert(session, key)
    if person is None:
        fail(f"no expert with id or ref {key!r}")
    staff = await find_staff(session, email)
    if staff is None or not staff.active:
        fail(f"no member of staff with email {email!r}")
    today = local_today(built.clock.now(), built.settings.default_time_zone)
    scope = await scope_for(session, staff, today)
    if not scope.may_change_expert(person):
        fail(
            f"{email} is not {key}'s link worker, covering for them, or an administrator, "
            "so they can't write to them"
        )
    return await load_profile(session, person.id), staff


def _print_preview(shown: Preview) -> None:
    lines = [
        f"Channel: {shown.why_channel}",
        f"When: {shown.goes_when}",
        f"Lock screen: {shown.lock_screen}",
    ]
    if shown.sms_segments is not None:
        texts = "text" if shown.sms_segments == 1 else "texts"
        lines.append(f"Length: {shown.sms_segments} {texts} (SMS segments)")
    if shown.blocked_word:
        lines.append(f"Blocked word: \u201c{shown.blocked_word}\u201d")
    lines.append("They will read:")
    if shown.subject:
        lines.append(f"    Subject: {shown.subject}")
    lines.extend(f"    {line}" for line in shown.body.splitlines())
    for line in lines:
        console.print(escape(line), highlight=False, soft_wrap=True)
    if shown.problems:
        fail(shown.problems[0].rstrip("."))

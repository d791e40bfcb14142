"""`linkline pastoral`: keeping in touch at the level each expert chose."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, local, open_app, run
from bot.services.experts import pastoral as service
from bot.services.experts.profile import find_expert
from bot.services.staff.accounts import find_staff
from store.enums import PastoralLevel
from store.errors import Refused

app = typer.Typer(
    help="Keeping in touch: contact levels, and drafts link workers approve.",
    no_args_is_help=True,
)


@app.command("level")
def level(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    chosen: str = typer.Argument(..., help=f"The level they chose: {service.LEVELS_HELP}."),
) -> None:
    """Set how often an expert hears from their link worker between pieces of work."""
    try:
        parsed = service.parse_level(chosen)
    except Refused as exc:
        fail(str(exc), 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            found = await find_expert(session, expert)
            if found is None:
                fail(f"no expert with id or ref {expert!r}")
            withdrawn = await service.set_contact_level(
                session,
                found,
                parsed,
                min_days=built.settings.pastoral_min_days,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )
            words = "off: only messages about work they are part of"
            if parsed is not PastoralLevel.OFF:
                words = f"{parsed.value}, when there has been no other contact for that long"
            console.print(f"Contact level for {expert}: {words}.")
            if withdrawn:
                console.print(f"Withdrew {withdrawn} planned keeping-in-touch message(s).")

    run(action)


@app.command("approvals")
def approvals(
    staff: str = typer.Argument(..., help="Email or id of the link worker."),
    setting: str = typer.Argument(..., help="'on' to approve each draft first, 'off' not to."),
) -> None:
    """Choose whether a link worker approves each keeping-in-touch message a day ahead."""
    words = {"on": True, "yes": True, "off": False, "no": False}
    if setting.strip().lower() not in words:
        fail(f"say 'on' or 'off', not {setting!r}", 2)
    required = words[setting.strip().lower()]

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            found = await find_staff(session, staff)
            if found is None:
                fail(f"no staff member with email or id {staff!r}")
            await service.set_approval(
                session, found, required, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(
                f"{found.name} approves each draft a day ahead; unapproved drafts are not sent."
                if required
                else f"Keeping-in-touch messages from {found.name} go without approval."
            )

    run(action)


@app.command("drafts")
def drafts() -> None:
    """Drafts waiting for approval, soonest first (the text is written when it is sent)."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            rows = await service.pending_drafts(session)
            if not rows:
                console.print("No drafts are waiting for approval.")
                return
            table = Table("message", "expert", "link worker", "planned for", "approved")
            for message in rows:
                table.add_row(
                    str(message.id),
                    message.expert.ref or str(message.expert_id),
                    message.expert.link_worker.name,
                    local(message.due_at, message.expert.time_zone),
                    "yes" if message.approved_at else "not yet",
                )
            console.print(table)

    run(action)


@app.command("approve")
def approve(
    message_id: int = typer.Argument(..., help="The draft's message id (see `pastoral drafts`)."),
    note: str | None = typer.Option(
        None, "--note", help="Your own line, added to the message. Keep it discreet."
    ),
    by: str | None = typer.Option(
        None, "--by", help="Email of who approves (default: the expert's link worker or cover)."
    ),
) -> None:
    """Approve a keeping-in-touch draft, so it is sent at its planned time."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            now = built.clock.now()
            staff = None
            if by is not None:
                staff = await find_staff(session, by)
                if staff is None:
                    fail(f"no staff member with email or id {by!r}")
            message = await service.approve(
                session, message_id, staff, note, now=now, actor=CLI_ACTOR
            )
            extra = " with your note" if message.personal_note else ""
            goes = local(message.due_at, built.settings.default_time_zone)
            console.print(f"Approved{extra}: it goes at {goes}.")

    run(action)

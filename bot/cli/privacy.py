"""`linkline privacy`: a copy of everything held about one expert, and erasing one.

The same services as the web pages (bot.services.privacy), so both are audited the same.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.services.experts.profile import find_expert
from bot.services.privacy.erasure import erase_expert
from bot.services.privacy.subject_access import export_expert, who
from bot.services.staff.accounts import find_staff
from store.enums import Role

app = typer.Typer(
    help="Privacy: everything held about one expert (subject access), and erasing an expert.",
    no_args_is_help=True,
)


@app.command("export")
def export(
    expert: str = typer.Argument(..., help="Their reference (such as EX-01) or id."),
    out: Path = typer.Option(..., "--out", help="Where to write the HTML file."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
) -> None:
    """Write everything held about one expert to a file they can open and read."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            found = await find_expert(session, expert)
            if found is None:
                fail(f"no expert {expert!r}: `linkline experts list` shows them")
            result = await export_expert(
                session,
                found,
                now=built.clock.now(),
                actor=CLI_ACTOR,
                tz=built.settings.default_time_zone,
            )
            _write_private(out, result.html, force=force)  # a failed write records no export
            console.print(
                f"Wrote everything held about expert {who(found)} to {out.name}. "
                "It holds personal details: give it only to them, and delete your copy.",
                highlight=False,
            )

    run(action)


@app.command("erase")
def erase(
    expert: str = typer.Argument(..., help="Their reference (such as EX-01) or id."),
    by: str = typer.Option(..., "--by", help="Email of the administrator erasing them."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask to type their reference again."),
) -> None:
    """Delete an expert and everything about them, for good. Only a note that they were
    erased, by whom and when, stays in the audit log."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            admin = await find_staff(session, by)
            if admin is None or not admin.active or admin.role is not Role.ADMIN:
                fail(f"{by!r} is not an active administrator: only an administrator can erase")
            found = await find_expert(session, expert)
            if found is None:
                fail(f"no expert {expert!r}: `linkline experts list` shows them")
            word = who(found)
            if yes:
                typed = word
            elif sys.stdin.isatty():
                typed = typer.prompt(f"This cannot be undone. Type {word} to erase them")
            else:
                fail("add --yes to erase without being asked", 2)
            summary = await erase_expert(  # a refusal erases nothing: `run` says why
                session, found, confirmation=typed, now=built.clock.now(), actor=admin.email
            )
            console.print(
                f"Erased expert {word} and {summary.total} records about them.", highlight=False
            )

    run(action)


def _write_private(file: Path, text: str, *, force: bool) -> None:
    """Owner-only (0600) before the first byte is written, even when replacing a file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(file, flags, 0o600)
    except FileExistsError:
        fail(f"{file.name} already exists: choose another name, or add --force to replace it")
    except OSError as exc:
        fail(f"cannot write {file.name}: {exc.strerror}")
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)

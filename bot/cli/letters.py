"""`linkline letters`: gather letters into print batches and record when they are posted."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, load_settings, open_app, run
from bot.services.delivery.letters import list_batches, make_batch, mark_posted

app = typer.Typer(
    help="Letters: print the waiting letters in one batch, then mark the batch posted.",
    no_args_is_help=True,
)


def _day(text: str | None) -> date:
    if text is None:
        return datetime.now(ZoneInfo(load_settings().default_time_zone)).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--date {text!r} is not a date: use the form 2026-03-16", 2)


@app.command("batch")
def batch(
    on: str | None = typer.Option(
        None, "--date", help="Take letters made on or before this day (default: today, UK)."
    ),
) -> None:
    """Put every waiting letter into one PDF to print, with a cover sheet on top.

    Nothing is posted yet: after printing and posting, run `linkline letters posted`.
    """
    day = _day(on)
    folder = load_settings().letters_dir
    zone = load_settings().default_time_zone
    made = make_batch(folder, day, datetime.now(ZoneInfo(zone)), tz=zone)
    if made is None:
        console.print("No letters are waiting to be printed.")
        return
    noun = "letter" if made.count == 1 else "letters"
    console.print(
        f"Batch {made.id}: {made.count} {noun}. Print {made.path}, "
        f"then run `linkline letters posted {made.id}`.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("posted")
def posted(batch_id: str = typer.Argument(..., help="The batch id, e.g. 2026-03-16-1.")) -> None:
    """Record that a printed batch is in the post, so each letter shows as posted."""

    async def action() -> None:
        async with open_app() as built:
            folder = built.settings.letters_dir
            # A batch that is unknown or already posted is refused; `run` says why.
            updated = await mark_posted(
                built.sessions, folder, batch_id, built.clock.now(), actor=CLI_ACTOR
            )
            console.print(
                f"Batch {batch_id} marked posted ({updated} delivery records updated).",
                highlight=False,
            )

    run(action)


@app.command("list")
def list_() -> None:
    """Show how many letters wait to be printed, and each batch: posted or not yet."""
    waiting, batches = list_batches(load_settings().letters_dir)
    noun = "letter is" if waiting == 1 else "letters are"
    console.print(f"{waiting} {noun} waiting to be printed.", highlight=False)
    if not batches:
        return
    table = Table("batch", "letters", "posted")
    for summary in batches:
        table.add_row(summary.id, str(summary.count), summary.posted_at or "not posted yet")
    console.print(table)

"""The `linkline` command."""

from __future__ import annotations

import logging

import typer

from bot.cli import (
    db,
    demo,
    engagements,
    experts,
    keys,
    letters,
    log,
    pastoral,
    plans,
    privacy,
    replies,
    run,
    staff,
    support_lines,
    tasks,
    telegram,
    worker,
)

app = typer.Typer(
    name="linkline",
    help="Linkline: safe, kind contact with experts by experience.\n\n"
    "Settings come from environment variables or a .env file (see README.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(experts.app, name="experts")
app.add_typer(engagements.app, name="engagements")
app.add_typer(staff.app, name="staff")
app.add_typer(tasks.app, name="tasks")
app.add_typer(plans.app, name="plans")
app.add_typer(pastoral.app, name="pastoral")
app.add_typer(keys.app, name="keys")
app.add_typer(letters.app, name="letters")
app.add_typer(telegram.app, name="telegram")
app.add_typer(replies.app, name="replies")
app.add_typer(privacy.app, name="privacy")
app.command("log")(log.show_log)
app.command("support-lines")(support_lines.show_support_lines)
app.command("run")(run.run_service)
app.command("worker")(worker.run_worker)
app.command("demo")(demo.run_demo)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A pass skipped because the previous one is still running is by design (max_instances=1).
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    app()

"""The `linkline` command.

Each command's module is imported only when that command runs (or its own help is
asked for): the modules reach the database, the web server, Telegram and Twilio, and
`linkline --help` should not wait for all of them. The list below says what each
command is for; tests/bot/cli/test_cli_help.py checks it against the commands' own help.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import import_module

import typer
from typer import _click as click  # the click typer carries and its classes are built on
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Entry:
    """One command: where it lives, and the line `linkline --help` shows for it."""

    name: str
    module: str
    attribute: str  # a Typer app (a group of commands) or one command's function
    summary: str


COMMANDS = (
    Entry(
        "log",
        "log",
        "show_log",
        "Show the delivery log: each message, its status, channel, attempts and the reason.",
    ),
    Entry(
        "support-lines",
        "support_lines",
        "show_support_lines",
        "Show the crisis and support lines offered after a worrying reply: open now, last checked.",
    ),
    Entry(
        "run",
        "run",
        "run_service",
        "Start the service: it sends what is due and hears replies; GET /healthz says when ready.",
    ),
    Entry("worker", "worker", "run_worker", "Send what is due, without the web server."),
    Entry(
        "demo",
        "demo",
        "run_demo",
        "Run three simulated weeks with six sample experts: no network, no credentials.",
    ),
    Entry(
        "demo-serve",
        "demo_serve",
        "serve_demo",
        "Open the demo's data in the staff pages on this machine; nothing is sent.",
    ),
    Entry("db", "db", "app", "Create or upgrade the database."),
    Entry(
        "experts",
        "experts",
        "app",
        "Experts by experience: list, import and export; consent and channels; Telegram "
        "links; pause and resume contact; write to them and read the conversation; the "
        "not-safe word; withdraw.",
    ),
    Entry("engagements", "engagements", "app", "Engagements: meetings, sessions and events."),
    Entry("staff", "staff", "app", "Staff: link workers and administrators."),
    Entry(
        "tasks",
        "tasks",
        "app",
        "Tasks for people: calls to make, problems to look at. On its own, `linkline tasks` "
        "lists the open ones, urgent first.",
    ),
    Entry(
        "plans",
        "plans",
        "app",
        "Contact-plan settings: per kind of engagement and per expert.",
    ),
    Entry(
        "pastoral",
        "pastoral",
        "app",
        "Keeping in touch: contact levels, and drafts link workers approve.",
    ),
    Entry("keys", "keys", "app", "Encryption keys for personal data."),
    Entry(
        "letters",
        "letters",
        "app",
        "Letters: print the waiting letters in one batch, then mark the batch posted.",
    ),
    Entry("telegram", "telegram", "app", "Telegram: connect the bot's webhook and check on it."),
    Entry(
        "replies",
        "replies",
        "app",
        "Replies from experts (and from numbers we do not know). On its own, "
        "`linkline replies` lists those waiting for a person, worrying ones first, with "
        "their age.",
    ),
    Entry("mail", "mail", "app", "Email replies: read the replies mailbox now."),
    Entry(
        "payments",
        "payments",
        "app",
        "Payments for people's time and costs: what is owed, approving and paying it, the "
        "finance file, and a yearly statement for an expert.",
    ),
    Entry(
        "privacy",
        "privacy",
        "app",
        "Privacy: everything held about one expert (subject access), and erasing an expert.",
    ),
)
_BY_NAME = {entry.name: entry for entry in COMMANDS}


def load(entry: Entry) -> click.Command:
    """The command itself, importing its module."""
    found = getattr(import_module(f"bot.cli.{entry.module}"), entry.attribute)
    if isinstance(found, typer.Typer):
        command: click.Command = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(entry.name)(found)
        command = typer.main.get_command(single)
    command.name = entry.name
    return command


class _LazyGroup(TyperGroup):
    """Lists every command from `COMMANDS`; imports one only to run it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [entry.name for entry in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _BY_NAME.get(cmd_name)
        if entry is None:
            return None
        # What a help listing needs; running the command goes through resolve_command.
        return TyperCommand(entry.name, help=entry.summary, short_help=entry.summary)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            name, _, rest = super().resolve_command(ctx, args)
        except click.exceptions.UsageError as error:
            close = get_close_matches(args[0], list(_BY_NAME)) if args else []
            if close:
                suggestions = ", ".join(repr(name) for name in close)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
        entry = _BY_NAME.get(name or "")
        if entry is None:
            return name, None, rest
        return name, load(entry), rest


app = typer.Typer(
    name="linkline",
    help="Linkline: safe, kind contact with experts by experience.\n\n"
    "Settings come from environment variables or a .env file (see README.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


@app.callback()
def _linkline() -> None:
    """Before every command, however it is started (the console script or a test's runner):
    only library lines a person can act on. Each command builds what else it needs."""
    # A pass skipped because the previous one is still running is by design (max_instances=1).
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    # Letters: WeasyPrint says which font library it fell back to, and fontTools reports
    # each table it subsets. Neither is something a person running Linkline can act on.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()

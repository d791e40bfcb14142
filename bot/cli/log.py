"""`linkline log`: what was sent, when, on which channel, and why."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import console, fail, load_settings, local, open_app, parse_local_datetime, run
from bot.services.delivery.log import LogFilter, delivery_log
from scheduling.text.words import reason_in_words
from store.enums import Channel, MessageStatus


def _filter(
    expert: int | None,
    channel: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    tz: str,
) -> LogFilter:
    """The options, checked before anything is opened; times are read in ``tz``."""
    try:
        chosen = Channel.parse(channel) if channel else None
    except ValueError as exc:
        fail(str(exc), 2)
    try:
        state = MessageStatus(status.strip().lower()) if status else None
    except ValueError:
        fail(
            f"unknown status {status!r}: use one of {', '.join(s.value for s in MessageStatus)}", 2
        )
    return LogFilter(
        expert_id=expert,
        channel=chosen,
        status=state,
        since=parse_local_datetime(since, tz, "--since") if since else None,
        until=parse_local_datetime(until, tz, "--until") if until else None,
        limit=limit,
    )


def show_log(
    expert: int | None = typer.Option(None, "--expert", help="Only this expert (their id)."),
    channel: str | None = typer.Option(
        None, "--channel", help="sms, telegram, email, letter or phone."
    ),
    status: str | None = typer.Option(None, "--status", help="e.g. sent, pending, suppressed."),
    since: str | None = typer.Option(None, "--since", help="Due on or after, e.g. 2026-03-01."),
    until: str | None = typer.Option(None, "--until", help="Due before, e.g. 2026-04-01."),
    limit: int = typer.Option(200, "--limit", min=1, max=10000, help="At most this many rows."),
) -> None:
    """Show the delivery log: each message, its status, channel, attempts and the reason."""
    tz = load_settings().default_time_zone  # the organisation's zone
    chosen = _filter(expert, channel, status, since, until, limit, tz)

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            rows = await delivery_log(session, chosen)
            table = Table(
                "id", "expert", "purpose", "due (UK time)", "status", "channel", "tries", "why"
            )
            for m in rows:
                table.add_row(
                    str(m.id),
                    str(m.expert_id),
                    m.purpose.value,
                    local(m.due_at, tz),
                    m.status.value,
                    m.channel.value if m.channel else "-",
                    str(len(m.attempts_log)),
                    reason_in_words(m.status_reason),
                )
            console.print(table)
            if not rows:
                console.print("No messages match.")

    run(action)

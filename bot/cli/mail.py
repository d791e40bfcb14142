"""`linkline mail`: the replies mailbox, read by hand (the worker reads it every minute)."""

from __future__ import annotations

import typer

from bot.cli.common import console, fail, open_app, run
from channels.base import ChannelError

app = typer.Typer(help="Email replies: read the replies mailbox now.", no_args_is_help=True)


@app.command("poll")
def poll() -> None:
    """Read the replies mailbox once: each new email is heard like a text (answers,
    keywords, worrying words), then marked as read there. The worker does this every
    minute; a message read before is never heard twice."""

    async def action() -> None:
        async with open_app() as built:
            reader = built.mail_poll()
            if reader is None:
                fail(
                    "no replies mailbox is set: set LINKLINE_IMAP_URL (or LINKLINE_IMAP_HOST, "
                    "LINKLINE_IMAP_USER and LINKLINE_IMAP_PASSWORD); see README.md"
                )
            try:
                result = await reader.poll_once()
            except ChannelError as exc:
                fail(f"{exc.detail}; nothing was marked as read, so nothing is lost")
            console.print(result.sentence(), highlight=False)
            if result.failed:
                raise typer.Exit(1)

    run(action)

"""`linkline experts`: the people Linkline keeps in touch with."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import console, open_app, run
from bot.services.experts import load_experts

app = typer.Typer(help="Experts by experience: list, import and export.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """Show every expert with their channels and consent (contact details stay hidden)."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            table = Table("id", "ref", "name", "channels", "consent", "status", "link worker")
            for e in await load_experts(session):
                consent = ", ".join(c.channel.value for c in e.consents if c.allowed) or "none"
                channels = " > ".join(c.value for c in e.channel_order())
                table.add_row(
                    str(e.id),
                    e.ref or "",
                    e.preferred_name,
                    channels,
                    consent,
                    e.status.value,
                    e.link_worker.name,
                )
            console.print(table)

    run(action)

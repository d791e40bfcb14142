"""`linkline db`: create and upgrade the database schema."""

from __future__ import annotations

import typer

from bot.bootstrap import build_app
from bot.cli.common import console, err_console, load_settings, run
from store import migrate

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the tables, or bring them up to this version's schema. Safe to repeat."""

    async def action() -> None:
        settings = load_settings()
        built = await build_app(settings, upgrade=True)
        for notice in built.notices:
            err_console.print(f"[yellow]Note:[/] {notice}", highlight=False)
        shown = built.engine.url.render_as_string(hide_password=True)
        await built.aclose()
        console.print(f"Database ready at {shown} (schema {migrate.head_revision()}).")

    run(action)

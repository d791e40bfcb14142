"""`linkline keys`: make a secret key for encrypting personal data."""

from __future__ import annotations

import typer

from store.crypto import generate_secret_key

app = typer.Typer(help="Encryption keys for personal data.", no_args_is_help=True)


@app.command("generate")
def generate() -> None:
    """Print a new random key. Set it as LINKLINE_SECRET_KEY and keep a copy safe."""
    typer.echo(generate_secret_key())

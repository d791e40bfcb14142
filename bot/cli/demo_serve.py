"""`linkline demo-serve`: the staff pages over the demo's database, to look around.

The demo's staff get one known password, so this only ever opens a folder the demo made
(its marker file is there) and never starts the sender: nothing is sent from here, and a
real database is never touched.
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.cli.demo import DEFAULT_OUT, MARKER, demo_settings
from bot.cli.run import _port_free
from bot.services.staff.sign_in import set_password
from scheduling.text.words import in_sentence
from scheduling.worker import Worker
from store.models import Staff

# Made-up people in a made-up database on this machine only; printed for anyone to use.
DEMO_PASSWORD = "look around the demo"


def serve_demo(
    out: Path = typer.Option(
        DEFAULT_OUT, "--out", help="The folder `linkline demo` wrote (its --out)."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Open the demo's data in the staff pages on this machine; nothing is sent."""
    if not (out / MARKER).is_file() or not (out / "demo.db").is_file():
        fail(f"there is no demo in {out}: run `make demo` (or `linkline demo`) first", 2)
    host = "127.0.0.1"  # the demo's password is public: never listen beyond this machine
    if not _port_free(host, port):
        fail(f"port {port} on {host} is in use: stop the other program or choose --port", 2)

    async def action() -> None:
        from bot.cli.serving import GentleServer, web_config

        async with open_app(settings=demo_settings(out)) as built:
            async with built.sessions.begin() as session:
                staff = list((await session.scalars(select(Staff).order_by(Staff.id))).all())
                for person in staff:
                    await set_password(
                        session,
                        person,
                        DEMO_PASSWORD,
                        passwords=built.passwords,
                        now=built.clock.now(),
                        actor=CLI_ACTOR,
                    )
            console.print(f"The demo's staff pages: http://{host}:{port}/   (Ctrl+C to stop)")
            console.print("Sign in as any of the demo's staff (made-up people):")
            for person in staff:
                console.print(f"  {person.email:<22} {person.name}, {in_sentence(person.role)}")
            console.print(f"Password for each: {DEMO_PASSWORD}", highlight=False)
            console.print("Nothing is sent from here: the demo's sender is not started.")
            idle = _IdleSender(built.dispatcher(), dispatch_every=60.0)
            server = GentleServer(web_config(built, host, port, worker=idle))
            await server.serve()
        console.print("Demo pages stopped.")

    run(action)


class _IdleSender(Worker):
    """The pages without the sender: a demo's old plans must not go out from here."""

    def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

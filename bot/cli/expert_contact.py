"""`linkline experts new-address`: a new postal address, waiting for a second person."""

from __future__ import annotations

import typer

from bot.cli.common import CLI_ACTOR, console, open_app, run
from bot.cli.who import expert_and_staff
from bot.services.experts.contact_changes import request_change
from store.enums import Channel


def new_address(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    address: str = typer.Argument(..., help="The new address, one line per line (use \\n)."),
    by: str = typer.Option(..., "--by", help="Email of the person asking for the change."),
    old_address_safe: bool = typer.Option(
        False,
        "--old-address-safe",
        help="They told us the old address is still safe: letters keep going there until "
        "a colleague confirms the new one.",
    ),
) -> None:
    """Ask for a new postal address; a different member of staff confirms it on the web
    pages. Until then no letters are sent, unless --old-address-safe is given."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person, staff = await expert_and_staff(session, expert, by)
            await request_change(
                session,
                built.cipher,
                person,
                staff,
                channel=Channel.LETTER,
                text=address.replace("\\n", "\n"),
                now=built.clock.now(),
                actor=CLI_ACTOR,
                old_address_safe=old_address_safe,
            )

    run(action)
    if old_address_safe:
        console.print(
            f"The new address for {expert} waits for a colleague to confirm it. Letters keep "
            "going to the old address until then, as you recorded it is still safe."
        )
    else:
        console.print(
            f"The new address for {expert} waits for a colleague to confirm it. Until then "
            "no letters are sent; anything due by post goes another agreed way."
        )

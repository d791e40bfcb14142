"""`linkline experts withdraw` and `linkline experts not-safe-word`: leaving with care, and
the private word that stops all contact at once."""

from __future__ import annotations

import typer
from rich.markup import escape

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.cli.who import expert_and_staff
from bot.services.experts.agreement import clear_safe_word, set_safe_word
from bot.services.experts.leaving import Leaving, withdraw_expert
from bot.services.experts.profile import find_expert
from scheduling.maintenance import retention_in_force
from scheduling.rules.distress import DistressWords


def withdraw(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    reason: str = typer.Option(..., "--reason", help="Why they are leaving, in a few words."),
    by: str = typer.Option(..., "--by", help="Email of the member of staff recording it."),
    goodbye: str | None = typer.Option(
        None,
        "--goodbye",
        help="A goodbye in their link worker's own words, sent through the usual checks "
        "(only their link worker, or whoever covers today, may write it).",
    ),
) -> None:
    """They are leaving: every automated message stops, open invitations are withdrawn
    (each lead gets a task), and their link worker gets an exit-conversation task."""

    async def action() -> Leaving:
        async with open_app() as built, built.sessions.begin() as session:
            person, staff = await expert_and_staff(session, expert, by)
            retention = await retention_in_force(session, built.maintenance().config)
            return await withdraw_expert(
                session,
                person.id,
                reason=reason,
                by=staff,
                goodbye=goodbye,
                retention=retention,
                now=built.clock.now(),
                actor=CLI_ACTOR,
            )

    done = run(action)
    console.print(
        f"Expert {escape(expert)} has left: {done.cancelled} waiting message(s) cancelled, "
        f"{done.invitations} invitation(s) withdrawn"
        f"{', and the goodbye waits for their safe hours' if done.goodbye else ''}. "
        f"Task {done.exit_task.id} is the exit conversation. Their record is erased on "
        f"{done.erase_on}, as the privacy settings say, unless a task about them is still "
        "open or a payment to them unsettled then.",
        highlight=False,
    )


def not_safe_word(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    word: str | None = typer.Argument(
        None, help="The word they chose (leave out with --clear). It is kept only as a hash."
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove their word."),
) -> None:
    """Set the private word an expert chose with you: when it arrives, all automated
    contact stops at once, nothing is sent back, and their link worker gets an urgent task.
    It must not be a common word or one Linkline already reads (STOP, LATER, ...)."""
    if clear == (word is not None):
        fail("give the word, or --clear to remove it (not both)", 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await find_expert(session, expert)
            if person is None:
                fail(f"no expert with id or ref {expert!r}")
            now = built.clock.now()
            if word is None:
                await clear_safe_word(session, person, now=now, actor=CLI_ACTOR)
                return
            await set_safe_word(
                session, built.cipher, person, word, DistressWords.load(), now=now, actor=CLI_ACTOR
            )

    run(action)
    console.print(
        f"The word for {escape(expert)} is {'removed' if clear else 'set'}.", highlight=False
    )

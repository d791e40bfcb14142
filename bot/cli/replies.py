"""`linkline replies`: what experts wrote, how long each has waited, and saying it was seen."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import console, fail, local, open_app, run
from bot.services.experts.profile import find_expert
from bot.services.inbox.replies import acknowledge, describe_age, get_reply, list_replies
from bot.services.staff.accounts import find_staff

app = typer.Typer(
    help="Replies from experts (and from numbers we do not know). On its own, "
    "`linkline replies` lists those waiting for a person, worrying ones first, with their age.",
    invoke_without_command=True,
)


@app.callback()
def replies(
    ctx: typer.Context,
    everything: bool = typer.Option(
        False, "--all", help="Every reply, newest first, including those settled by keyword."
    ),
    strangers: bool = typer.Option(
        False, "--strangers", help="Only messages from numbers or chats we do not know."
    ),
    expert: str | None = typer.Option(None, "--expert", help="Only this expert's replies."),
) -> None:
    """List replies; `linkline replies show ID` reads one, `ack ID --by EMAIL` marks it seen."""
    if ctx.invoked_subcommand is not None:
        return

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            who = await find_expert(session, expert) if expert else None
            if expert and who is None:
                fail(f"no expert {expert!r}: use their reference or id")
            now = built.clock.now()
            rows = await list_replies(
                session,
                now=now,
                limits=built.ack_limits(),
                everything=everything,
                strangers=strangers,
                expert=who,
            )
            table = Table("id", "", "from", "by", "received (UK time)", "waiting", "meant", "task")
            for row in rows:
                reply = row.reply
                flag = "URGENT" if reply.urgent else ("overdue" if row.overdue else "")
                seen = reply.acknowledged_at is not None or not reply.needs_person
                table.add_row(
                    str(reply.id),
                    flag,
                    reply.expert.preferred_name if reply.expert else "unknown sender",
                    reply.channel.value,
                    local(reply.received_at, built.settings.default_time_zone),
                    "seen" if seen else describe_age(row.age),
                    reply.intent or "",
                    str(reply.task_id or ""),
                )
            console.print(table if rows else "No replies are waiting for a person.")

    run(action)


@app.command("show")
def show(reply_id: int = typer.Argument(..., help="The reply's id.")) -> None:
    """Read one reply in full, with what the machine said back."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            reply = await get_reply(session, reply_id)
            who = reply.expert.preferred_name if reply.expert else f"unknown ({reply.sender})"
            console.print(f"From: {who} by {reply.channel.value}", highlight=False)
            console.print(
                f"Received: {local(reply.received_at, built.settings.default_time_zone)} (UK time)",
                highlight=False,
            )
            console.print(f"Taken to mean: {reply.intent or '-'}", highlight=False)
            console.print(f"\n{reply.body}\n", highlight=False, markup=False)
            console.print(
                f"Answered: {reply.auto_answer or '(nothing)'}", highlight=False, markup=False
            )
            if reply.acknowledged_at is not None:
                by = reply.acknowledged_by.name if reply.acknowledged_by else "closing its task"
                seen = local(reply.acknowledged_at, built.settings.default_time_zone)
                console.print(f"Seen: {seen} by {by}", highlight=False)
            elif reply.needs_person:
                console.print(
                    f"Not yet seen by anyone: `linkline replies ack {reply.id} --by EMAIL`",
                    highlight=False,
                )

    run(action)


@app.command("ack")
def ack(
    reply_id: int = typer.Argument(..., help="The reply's id."),
    by: str = typer.Option(..., "--by", help="Email of the member of staff who read it."),
) -> None:
    """Record that a person has read it. The last worrying reply seen lifts the hold."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            staff = await find_staff(session, by)
            if staff is None:
                fail(f"no member of staff with email {by!r}: `linkline staff list` shows them")
            reply = await get_reply(session, reply_id)
            if reply.acknowledged_at is not None:
                seen = local(reply.acknowledged_at, built.settings.default_time_zone)
                fail(f"reply {reply_id} was already seen on {seen}")
            lifted = await acknowledge(session, reply, staff, now=built.clock.now())
            console.print(f"Reply {reply_id} marked as seen by {staff.name}.", highlight=False)
            if lifted:
                console.print("Automated messages to them can go again.")

    run(action)

"""`linkline plans`: when pre-briefs, reminders, check-ins and de-briefs go out."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements import plans as service
from bot.services.experts import pastoral as pastoral_service
from bot.services.experts.profile import find_expert
from scheduling.rules.plan import describe_offsets

app = typer.Typer(
    help="Contact-plan settings: per kind of engagement and per expert.", no_args_is_help=True
)

_NAMES = ("pre_brief_days", "reminder_days", "check_in_days", "de_brief_days", "send_at")


def _changes(
    pre_brief_days: int | None,
    reminder_days: int | None,
    check_in_days: int | None,
    de_brief_days: int | None,
    send_at: str | None,
    clear: list[str],
) -> dict[str, Any]:
    given = dict(
        zip(
            _NAMES,
            (pre_brief_days, reminder_days, check_in_days, de_brief_days, send_at),
            strict=True,
        )
    )
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    for name in clear:
        key = name.strip().replace("-", "_")
        if key not in _NAMES:
            fail(f"--clear {name!r}: use one of {', '.join(_NAMES)}", 2)
        changes[key] = None
    if not changes:
        fail("nothing to change: give a setting such as --pre-brief-days 10, or --clear", 2)
    return changes


@app.command("show")
def show(
    kind: str | None = typer.Option(None, "--kind", help="A kind of engagement, e.g. panel."),
    expert: str | None = typer.Option(None, "--expert", help="Expert id or ref."),
) -> None:
    """Show the settings a plan uses, and where each comes from."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            found = None
            if expert is not None:
                found = await find_expert(session, expert)
                if found is None:
                    fail(f"no expert with id or ref {expert!r}")
            result = await service.effective(session, built.offsets, kind=kind, expert=found)
            table = Table("setting", "value", "from")
            words = describe_offsets(result.offsets)
            for name in _NAMES:
                table.add_row(name, words[name], result.source[name])
            console.print(table)
            saved = await service.kinds(session)
            if saved:
                console.print("Kinds with their own settings: " + ", ".join(k.kind for k in saved))

    run(action)


@app.command("set")
def set_(
    kind: str | None = typer.Option(None, "--kind", help="Set for every engagement of a kind."),
    expert: str | None = typer.Option(None, "--expert", help="Set for one expert (id or ref)."),
    engagement: int | None = typer.Option(
        None, "--engagement", help="Set for one engagement (its unsent messages move)."
    ),
    pre_brief_days: int | None = typer.Option(None, "--pre-brief-days", help="Days before."),
    reminder_days: int | None = typer.Option(None, "--reminder-days", help="Days before."),
    check_in_days: int | None = typer.Option(
        None, "--check-in-days", help="Days after (0: a couple of hours after it ends)."
    ),
    de_brief_days: int | None = typer.Option(None, "--de-brief-days", help="Days after."),
    send_at: str | None = typer.Option(
        None, "--send-at", help="Local time to aim for, e.g. 10:30."
    ),
    clear: list[str] = typer.Option([], "--clear", help="Remove a setting, e.g. --clear send_at."),
) -> None:
    """Change plan settings. Contradictions are refused, and nothing is saved.

    For --engagement, its unsent messages move at once; engagements already planned
    keep their messages after a --kind or --expert change until they next change.
    """
    if sum(x is not None for x in (kind, expert, engagement)) != 1:
        fail("say which settings to change: --kind NAME, --expert ID or --engagement ID", 2)
    changes = _changes(pre_brief_days, reminder_days, check_in_days, de_brief_days, send_at, clear)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            now = built.clock.now()
            if engagement is not None:
                found_engagement = await engagement_service.get_engagement(session, engagement)
                offsets, report = await service.set_for_engagement(
                    session, found_engagement, changes, built.offsets, now=now, actor=CLI_ACTOR
                )
                who = f"engagement {engagement} ({report.moved} unsent messages moved)"
            elif kind is not None:
                offsets = await service.set_for_kind(
                    session, kind, changes, built.offsets, now=now, actor=CLI_ACTOR
                )
                who = f"{kind.strip().lower()} engagements"
            else:
                found = await find_expert(session, expert or "")
                if found is None:
                    fail(f"no expert with id or ref {expert!r}")
                offsets = await service.set_for_expert(
                    session, found, changes, built.offsets, now=now, actor=CLI_ACTOR
                )
                who = f"expert {expert}"
            console.print(f"Saved for {who}: " + "; ".join(describe_offsets(offsets).values()))

    run(action)


@app.command("bank-holidays")
def bank_holidays(
    expert: str = typer.Argument(..., help="Expert id or ref."),
    setting: str = typer.Argument(
        ..., help="'allow' if contact on bank holidays is safe, else 'block'."
    ),
) -> None:
    """Scottish bank holidays are closed for contact unless the expert said they are fine."""
    words = {"allow": True, "block": False}
    if setting.strip().lower() not in words:
        fail(f"say 'allow' or 'block', not {setting!r}", 2)

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            found = await find_expert(session, expert)
            if found is None:
                fail(f"no expert with id or ref {expert!r}")
            allowed = words[setting.strip().lower()]
            await pastoral_service.set_bank_holidays(
                session, found, allowed, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(
                f"Expert {expert} may be contacted on bank holidays (inside their safe hours)."
                if allowed
                else f"Expert {expert} is not contacted on Scottish bank holidays."
            )

    run(action)

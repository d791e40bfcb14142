"""`linkline tasks`: work waiting for a person, most urgent first."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import CLI_ACTOR, console, fail, local, open_app, run
from bot.services.inbox.tasks import about_engagement, close_task, open_tasks
from store import audit

app = typer.Typer(
    help="Tasks for people: calls to make, problems to look at. On its own, "
    "`linkline tasks` lists the open ones, urgent first.",
    invoke_without_command=True,
)


@app.callback()
def tasks(ctx: typer.Context) -> None:
    """List open tasks (urgent first). Use `linkline tasks done ID` to close one."""
    if ctx.invoked_subcommand is not None:
        return

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            tz = built.settings.default_time_zone
            table = Table("id", "urgent", "what", "about", "for", "due (UK time)", "details")
            rows = await open_tasks(session)
            for t in rows:
                table.add_row(
                    str(t.id),
                    "URGENT" if t.urgent else "",
                    t.title,
                    about_engagement(t, tz),
                    t.assignee.name if t.assignee else "anyone",
                    local(t.due_at, tz),
                    t.details or "",
                )
            console.print(table if rows else "No open tasks.")

    run(action)


@app.command("done")
def done(
    task_id: int = typer.Argument(..., help="The task's id."),
    outcome: str = typer.Option(
        ..., "--outcome", help="What happened, e.g. 'reached, told verbally'."
    ),
) -> None:
    """Close a task and record what happened."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            task = await close_task(session, task_id, outcome, built.clock.now())
            if task is None:
                fail(f"no open task with id {task_id}")
            audit.record(
                session,
                actor=CLI_ACTOR,
                action="task.done",
                entity="task",
                entity_id=task_id,
                at=built.clock.now(),
            )
            console.print(f"Task {task_id} closed.")

    run(action)

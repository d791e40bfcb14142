"""Tasks: work for a person, urgent first; a task's page with its script, and closing it
with what happened. Also the letters to print, gathered into batches.

A phone task shows the expert's number only to someone whose scope includes that expert:
a task can be assigned to a person who may not see the expert's record.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from itertools import groupby

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.services.delivery.letters import (
    batch_in_scope,
    batch_today,
    finish_posted,
    list_batches,
    newest_first,
    record_posted,
)
from bot.services.experts import pastoral
from bot.services.inbox.tasks import (
    MAX_OUTCOME,
    PHONE_KINDS,
    about_engagement,
    close_task,
    describe_kind,
    group_tasks,
    load_task,
    open_tasks,
    outcome_choices,
    phone_for_task,
    task_replies,
    written_outcome,
)
from bot.services.staff.access import NotFound, task_in_scope
from bot.web.admin.pages import Errors, Page, Web
from store.enums import TaskKind, TaskStatus
from store.errors import Refused
from store.models import Task

BATCHES_SHOWN = 30


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    folder = web.built.settings.letters_dir

    @router.get("/tasks", response_class=HTMLResponse)
    async def task_list(request: Request) -> Response:
        mine = request.query_params.get("mine") == "1"
        async with web.page(request) as page:
            tasks = await open_tasks(
                page.session, where=page.scope.tasks(), assignee=page.viewer if mine else None
            )
            waiting, batches = await asyncio.to_thread(list_batches, folder)
            return page.render(
                "tasks/list.html",
                groups=group_tasks(tasks),
                mine=mine,
                describe_kind=describe_kind,
                about=partial(about_engagement, time_zone=web.time_zone),
                letters_waiting=waiting,
                batches_unposted=sum(1 for b in batches if not b.posted_at),
            )

    # The letters' routes come before /tasks/{id}, whose id is a number only.

    @router.get("/tasks/letters", response_class=HTMLResponse)
    async def letters(request: Request) -> Response:
        async with web.page(request) as page:
            waiting, batches = await asyncio.to_thread(list_batches, folder)
            shown = newest_first(batches)[:BATCHES_SHOWN]
            allowed = {b.id for b in shown if await _may_have(page, b.id)}
            return page.render(
                "tasks/letters.html",
                waiting=waiting,
                batches=shown,
                posted_on={b.id: datetime.fromisoformat(b.posted_at) for b in shown if b.posted_at},
                more=max(len(batches) - len(shown), 0),
                allowed=allowed,
            )

    @router.post("/tasks/letters/batch")
    async def make_letters_batch(request: Request) -> Response:
        async with web.page(request) as page:
            made = await batch_today(
                page.session,
                folder,
                page.today,
                page.now,
                actor=page.actor,
                tz=web.built.settings.default_time_zone,
            )
            if made is None:
                return page.redirect(
                    "/tasks/letters", flash="No letters are waiting to be printed."
                )
            noun = "letter" if made.count == 1 else "letters"
            return page.redirect(
                "/tasks/letters",
                flash=f"Batch {made.id} is ready: {made.count} {noun}. Download it, print it "
                "single-sided, then mark it as posted.",
            )

    @router.get("/tasks/letters/{batch_id}.pdf")
    async def download(request: Request, batch_id: str) -> Response:
        async with web.page(request) as page:
            pdf = await batch_in_scope(page.session, page.scope, folder, batch_id)
            page.viewed("batch", None, batch=batch_id)
        return FileResponse(
            pdf,
            media_type="application/pdf",
            filename=f"letters-{batch_id}.pdf",
            content_disposition_type="attachment",
            headers={"Cache-Control": "no-store"},
        )

    @router.post("/tasks/letters/{batch_id}/posted")
    async def posted(request: Request, batch_id: str) -> Response:
        async with web.page(request) as page:
            await batch_in_scope(page.session, page.scope, folder, batch_id)
            try:
                done = await record_posted(
                    page.session, folder, batch_id, page.now, actor=page.actor
                )
            except Refused:
                return page.redirect(
                    "/tasks/letters", flash=f"Batch {batch_id} was already marked as posted."
                )
            response = page.redirect(
                "/tasks/letters",
                flash=f"Batch {batch_id} is marked as posted. Each letter now shows as posted.",
            )
        # The manifest is written once the database has the news (see record_posted).
        await finish_posted(done)
        return response

    @router.get("/tasks/{task_id:int}", response_class=HTMLResponse)
    async def show(request: Request, task_id: int) -> Response:
        async with web.page(request) as page:
            task = await task_in_scope(page.session, page.scope, task_id)
            page.viewed("task", task.id)
            return await _task_page(page, task)

    @router.post("/tasks/{task_id:int}/approve")
    async def approve(request: Request, task_id: int) -> Response:
        """A keeping-in-touch draft approved from its task, with the worker's own line."""
        async with web.page(request) as page:
            task = await task_in_scope(page.session, page.scope, task_id)
            if (
                task.kind is not TaskKind.APPROVE_PASTORAL
                or task.message_id is None
                or task.status is not TaskStatus.OPEN
            ):
                return await _task_page(page, task, status=409, refused=True)
            try:
                await pastoral.approve(
                    page.session,
                    task.message_id,
                    page.viewer,
                    page.field("note") or None,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                return await _task_page(page, task, errors=page.refusal(exc, "note"))
            return page.redirect("/tasks", flash="Approved: it goes at its planned time.")

    @router.post("/tasks/{task_id:int}/done")
    async def done(request: Request, task_id: int) -> Response:
        async with web.page(request) as page:
            task = await task_in_scope(page.session, page.scope, task_id)
            if task.status is not TaskStatus.OPEN:
                return await _task_page(page, task, status=409, refused=True)
            outcome, errors = written_outcome(task, page.field("result"), page.field("outcome"))
            if outcome is None:
                return await _task_page(page, task, errors=errors)
            unread = [
                r
                for r in await task_replies(page.session, task, page.scope)
                if r.acknowledged_at is None
            ]
            closed = await close_task(
                page.session, task.id, outcome, page.now, by=page.viewer, actor=page.actor
            )
            if closed is None:  # closed by someone else a moment ago
                return await _task_page(page, task, status=409, refused=True)
            flash = "Task closed, and what happened is saved. Thank you."
            if unread:
                flash += " The reply it was opened for is marked as read."
            return page.redirect("/tasks", flash=flash)

    return router


async def _may_have(page: Page, batch_id: str) -> bool:
    try:
        await batch_in_scope(
            page.session, page.scope, page.web.built.settings.letters_dir, batch_id
        )
    except NotFound:
        return False
    return True


async def _task_page(
    page: Page,
    task: Task,
    *,
    status: int = 200,
    errors: Errors | None = None,
    refused: bool = False,
) -> Response:
    """The task's own page: details, script, number for a call, and the closing form."""
    task = await load_task(page.session, task)
    expert = task.expert
    sees_expert = expert is not None and page.scope.sees_worker(expert.link_worker_id)
    return page.render(
        "tasks/show.html",
        status=status,
        errors=errors,
        task=task,
        kind=describe_kind(task.kind),
        is_phone=task.kind in PHONE_KINDS,
        phone=await phone_for_task(page.session, task, page.scope),
        sees_expert=sees_expert,
        replies=await task_replies(page.session, task, page.scope),
        choices=outcome_choices(task),
        max_outcome=MAX_OUTCOME,
        refused=refused,
        paragraphs=_paragraphs(task.details or ""),
    )


def _paragraphs(text: str) -> list[tuple[bool, list[str]]]:
    """The details as paragraphs of lines. Quoted lines (the suggested words from
    ``templates/tasks/``) become their own paragraph, shown set apart as a script."""
    out: list[tuple[bool, list[str]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        for quoted, lines in groupby(
            (line.strip() for line in block.splitlines() if line.strip()),
            key=lambda line: line.startswith(('"', "\u201c")),
        ):
            out.append((quoted, list(lines)))
    return out

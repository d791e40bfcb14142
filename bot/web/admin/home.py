"""The first page after signing in: what needs a person today, most urgent first."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from bot.web.admin.pages import Web
from store.enums import ChangeStatus, EngagementStatus, TaskStatus
from store.models import ContactChange, Engagement, Expert, Reply, Task


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        async with web.page(request) as page:
            db, scope = page.session, page.scope
            waiting = (
                select(func.count(Reply.id))
                .where(Reply.needs_person.is_(True), Reply.acknowledged_at.is_(None))
                .where(scope.replies())
            )
            open_tasks = select(func.count(Task.id)).where(
                Task.status == TaskStatus.OPEN, scope.tasks()
            )
            changes = (
                select(func.count(ContactChange.id))
                .join(Expert, Expert.id == ContactChange.expert_id)
                .where(
                    ContactChange.status == ChangeStatus.PENDING,
                    ContactChange.requested_by_id != page.viewer.id,
                    scope.experts(),
                )
            )
            soon = (
                select(func.count(Engagement.id))
                .where(
                    Engagement.status == EngagementStatus.PUBLISHED,
                    Engagement.starts_at >= page.now,
                    Engagement.starts_at < page.now + timedelta(days=14),
                )
                .where(scope.engagements())
            )
            return page.render(
                "home/home.html",
                urgent_replies=await db.scalar(waiting.where(Reply.urgent.is_(True))) or 0,
                waiting_replies=await db.scalar(waiting) or 0,
                urgent_tasks=await db.scalar(open_tasks.where(Task.urgent.is_(True))) or 0,
                open_tasks=await db.scalar(open_tasks) or 0,
                changes_to_confirm=await db.scalar(changes) or 0,
                engagements_soon=await db.scalar(soon) or 0,
            )

    return router

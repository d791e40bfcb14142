"""Every staff page once on PostgreSQL, with real data behind it: the pages' own queries
(scopes, filters, counts per day) must run on the production database too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App, build_app
from bot.services.experts.contact_changes import request_change
from bot.services.listening import Inbound, hear
from bot.web.app import create_web_app
from scheduling.clock import SimulatedClock
from store.enums import Channel, Role, TaskStatus
from store.models import ContactChange, Engagement, Message, Reply, Task
from tests.builders import add_engagement, add_expert, say_yes
from tests.conftest import _truncate, make_settings
from tests.staff_client import add_account, signed_in

pytestmark = pytest.mark.postgres

_refs = count(1)


@pytest.fixture
async def pg_app(tmp_path: Path, postgres_url: str, clock: SimulatedClock) -> AsyncIterator[App]:
    built = await build_app(make_settings(tmp_path, postgres_url), clock=clock, upgrade=True)
    await _truncate(built)
    try:
        yield built
    finally:
        await built.aclose()


async def _a_week_of_work(app: App) -> dict[str, int]:
    """Sam's expert Ana, invited and answered; a text sent; a worrying reply; a task; a
    change of number waiting for a second person; Alex the administrator."""
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        await add_account(
            app, session, name="Alex Morgan", email="alex@example.org", role=Role.ADMIN
        )
        ana = await add_expert(app, session, ref="EX-01")
        engagement = await add_engagement(app, session, experts=[ana])
        await say_yes(app, session, engagement, ana)
        await request_change(
            session,
            app.cipher,
            ana,
            sam,
            channel=Channel.SMS,
            text="07123 000999",
            now=app.clock.now(),
            actor=sam.email,
        )
    first = await _first_due(app)
    app.clock.set(first)  # type: ignore[attr-defined]
    await app.dispatcher().run_until_idle()
    heard = await hear(
        app.sessions,
        Inbound(
            channel=Channel.SMS,
            provider_ref=f"twilio:SM{next(_refs):032d}",
            sender="+447123456789",
            text="not good, I can't cope",
            received_at=app.clock.now(),
        ),
        app.listening(),
    )
    async with app.sessions() as session:
        ids = {
            "expert_id": ana.id,
            "engagement_id": engagement.id,
            "invitation_id": engagement.invitations[0].id,
            "reply_id": heard.reply_id or 0,
            "task_id": await _one(session, Task.id, Task.status == TaskStatus.OPEN),
            "message_id": await _one(session, Message.id, Message.sent_at.is_not(None)),
            "change_id": await _one(session, ContactChange.id),
            "staff_id": sam.id,
        }
    return ids


async def _first_due(app: App) -> datetime:
    async with app.sessions() as session:
        due = await session.scalar(select(func.min(Message.due_at)))
    assert due is not None
    return due


async def _one(session: AsyncSession, column: Any, *where: Any) -> int:
    value = await session.scalar(select(column).where(*where).limit(1))
    assert value is not None, f"the data set has no {column}"
    return int(value)


def _get_paths(app: App, ids: dict[str, int]) -> list[str]:
    """Every GET route of the staff pages with its ids filled in from the data set."""
    paths = []
    routes: list[Any] = []
    for route in create_web_app(app).routes:  # FastAPI keeps included routers as one entry
        routes.extend(getattr(getattr(route, "original_router", None), "routes", [route]))
    for route in routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        path = route.path
        if path.startswith(("/webhooks", "/healthz")) or "{batch_id}" in path:
            continue
        path = re.sub(r"\{kind(:path)?\}", "meeting", path)
        path = re.sub(r"\{window_id\}", "1", path)
        path = path.replace("{slug}", "name")  # adding an expert: its first section
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(ids[m.group(1)]), path)
        paths.append(path)
    return paths


async def test_every_page_opens_on_postgresql_for_an_administrator_and_a_link_worker(
    pg_app: App,
) -> None:
    ids = await _a_week_of_work(pg_app)
    paths = _get_paths(pg_app, ids)
    assert len(paths) > 40
    for email in ("alex@example.org", "sam@example.org"):
        async with signed_in(pg_app, email) as client:
            for path in paths:
                page = await client.get(path)
                # 400: a page for a step this engagement is not at (editing once published).
                # 404 for an administrator too: a letter's preview is only for the expert's
                # own link worker (and only when letters are agreed with them).
                mine = email == "alex@example.org" and "/preview/letter" not in path
                allowed = (200, 400) if mine else (200, 400, 404)
                if path == "/experts/new/check":
                    allowed = (200, 303)  # with nothing filled in yet: to the task list
                assert page.status_code in allowed, f"{email} {path}: {page.status_code}"
            for filtered in (
                "/admin/delivery?status=sent&channel=sms&from=2026-01-01&to=2026-12-31",
                "/admin/delivery.csv?status=sent",
                "/admin/delivery?expert=ex-01",
                f"/admin/delivery?person={ids['expert_id']}",
                "/admin/audit?action=expert.viewed",
                "/replies?all=1",
            ):
                assert (await client.get(filtered)).status_code in (200, 404)


async def test_the_main_forms_save_on_postgresql(pg_app: App) -> None:
    ids = await _a_week_of_work(pg_app)
    async with signed_in(pg_app, "alex@example.org") as alex:
        confirmed = await alex.post(f"/experts/changes/{ids['change_id']}/confirm")
        assert confirmed.status_code == 303
        acked = await alex.post(f"/replies/{ids['reply_id']}/ack")
        assert acked.status_code == 303
        done = await alex.post(
            f"/tasks/{ids['task_id']}/done", {"outcome": "Rang her; she is safe."}
        )
        assert done.status_code == 303
        cancelled = await alex.post(
            f"/engagements/{ids['engagement_id']}/cancel", {"reason": "The venue flooded"}
        )
        assert cancelled.status_code == 303
        kept = await alex.post(
            "/admin/privacy", {"message_days": "120", "record_days": "2190", "leaver_days": "365"}
        )
        assert kept.status_code == 303
    async with pg_app.sessions() as session:
        engagement = await session.get(Engagement, ids["engagement_id"])
        reply = await session.get(Reply, ids["reply_id"])
        task = await session.get(Task, ids["task_id"])
        change = await session.get(ContactChange, ids["change_id"])
    assert engagement is not None and engagement.status.value == "cancelled"
    assert reply is not None and reply.acknowledged_at is not None
    assert task is not None and task.status is TaskStatus.DONE
    assert change is not None and change.status.value == "confirmed"

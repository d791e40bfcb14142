"""Seeing is not changing (H-1): every POST route of the staff pages, walked as each role
(administrator, an engagement's lead, the lead's cover while they are away, another link
worker) against records of each caseload. Whoever may only see a record, or not even
that, gets the same 404 as "not found", and the database is exactly as it was.

The routes are read from the app itself, so a new POST route fails
`test_every_post_route_is_in_the_table` until someone says who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from bot.bootstrap import App
from bot.web.app import create_web_app
from scheduling.people import ledger
from scheduling.people.tasks import open_task
from store.enums import ChangeStatus, Channel, PaymentPurpose, Role, TaskKind
from store.models import Base, ContactChange, ContactWindow, Message, Reply, Staff
from tests.builders import add_engagement, add_expert
from tests.staff_client import StaffClient, add_account, signed_in

ADA, SAM, KIT, LEE = "ada@example.org", "sam@example.org", "kit@example.org", "lee@example.org"
ROLES = {"admin": ADA, "lead": SAM, "cover": KIT, "other": LEE}

# A form that would change something on nearly every route, had the route let it through.
FORM: dict[str, Any] = {
    "reason": "The venue flooded",
    "answer": "no",
    "title": "Renamed",
    "kind": "meeting",
    "starts_on-day": "1",
    "starts_on-month": "3",
    "starts_on-year": "2027",
    "start_time": "10:00",
    "end_time": "12:00",
    "pre_brief_days": "5",
    "outcomes": "We changed the leaflet",
    "phone": "07123 999000",
    "email": "new@example.org",
    "preferred_name": "Someone",
    "result": "done",
    "outcome": "Phoned them",
    "until": "",
    "level": "monthly",
    "days": "mon-fri",
    "start": "09:00",
    "end": "17:00",
}


@dataclass(frozen=True)
class World:
    """Sam leads an engagement inviting Ana (Sam's) and Cal (Lee's); Kit covers Sam, who
    is away today; Ada is an administrator."""

    ids: dict[str, int]


# Who may use a route, for records of Sam's caseload ("sam") or Lee's ("lee"); every other
# role must get 404. Path parameters are filled from the world by name.
ANYONE_FOR_SAM = {"admin", "lead", "cover"}
TABLE: dict[str, dict[str, set[str]]] = {
    # the whole engagement: its lead, their cover, an administrator
    "/engagements/{engagement_id}/publish": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/edit": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/move": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/plan": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/invite": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/attendance": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/outcomes": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/cancel": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/payments": {"sam": ANYONE_FOR_SAM},
    "/engagements/{engagement_id}/offer": {"sam": ANYONE_FOR_SAM},
    # one expert's invitation: that expert's own worker (or cover) and an administrator
    "/engagements/{engagement_id}/told/{invitation_id}": {
        "sam": ANYONE_FOR_SAM,
        "lee": {"admin", "other"},
    },
    "/engagements/{engagement_id}/told/{invitation_id}/undo": {
        "sam": ANYONE_FOR_SAM,
        "lee": {"admin", "other"},
    },
    "/engagements/{engagement_id}/answers/{invitation_id}": {
        "sam": ANYONE_FOR_SAM,
        "lee": {"admin", "other"},
    },
    # one expert: their own worker (or cover) and an administrator
    **{
        f"/experts/{{expert_id}}/{part}": {"sam": ANYONE_FOR_SAM, "lee": {"admin", "other"}}
        for part in (
            "pastoral",
            "pause",
            "telegram-link",
            "safe-contact-confirmed",
            "edit",
            "contact",
            "consent",
            "channels",
            "windows",
            "write",
            "write/send",
            "notes",
            "payment-choice",
            "statement",
            "not-safe-word",
            "withdraw",
        )
    },
    "/experts/{expert_id}/windows/{window_id}/remove": {"sam": ANYONE_FOR_SAM},
    "/experts/changes/{change_id}/confirm": {"sam": ANYONE_FOR_SAM},
    "/experts/changes/{change_id}/reject": {"sam": ANYONE_FOR_SAM},
    "/experts/{expert_id}/erase": {"sam": {"admin"}},
    "/tasks/{task_id}/done": {"sam": ANYONE_FOR_SAM},
    "/tasks/{task_id}/approve": {"sam": ANYONE_FOR_SAM},
    "/replies/{reply_id}/ack": {"sam": ANYONE_FOR_SAM},
    "/replies/{reply_id}/done": {"sam": ANYONE_FOR_SAM},
    # administrators only
    "/admin/attention/{message_id}/retry": {"sam": {"admin"}},
    "/admin/attention/{message_id}/cancel": {"sam": {"admin"}},
    **{
        f"/admin/staff/{{staff_id}}/{part}": {"sam": {"admin"}}
        for part in ("role", "password", "unlock", "alerts", "close")
    },
    "/admin/privacy": {"sam": {"admin"}},
    "/admin/staff/new": {"sam": {"admin"}},
    **{
        f"/admin/payments/{{line_id}}/{step}": {"sam": {"admin"}}
        for step in ("approve", "paid", "decline")
    },
    "/admin/payments/paid-file": {"sam": {"admin"}},
    # someone's own cover, or anyone's for an administrator
    "/cover/{staff_id}": {"sam": {"admin", "lead"}},
}

# Routes that use their record up: only the first who may is tried.
USED_UP = {"/experts/{expert_id}/windows/{window_id}/remove"}

# POST routes with nothing of anyone's to change, or walked elsewhere, and why.
NOT_IN_THE_TABLE = {
    "/sign-in": "before anyone is signed in",
    "/sign-out": "one's own session",
    "/account/password": "one's own password",
    "/cover": "one's own cover",
    "/engagements/new": "a new engagement is led by whoever creates it",
    "/experts/new/{slug}": "one's own draft; the link worker is chosen from those one covers "
    "(test_experts.py)",
    "/experts/new/check": "adds from one's own draft, to a link worker one covers "
    "(test_experts.py)",
    "/experts/new/discard": "one's own draft",
    "/plans/new": "the organisation's plans, for every member of staff (test_plans.py)",
    "/plans/{kind}": "the organisation's plans, for every member of staff (test_plans.py)",
    "/tasks/letters/batch": "the letters waiting today, for every member of staff",
    "/tasks/letters/{batch_id}/posted": "a batch's letters are scoped (test_letters.py)",
    "/admin/staff/{staff_id}/sessions/{session_id}/end": (
        "administrators only; a link worker gets 404 (test_sessions_and_throttle.py)"
    ),
    "/admin/delivery/search": (
        "a search changes nothing; administrators only, a link worker gets 404 "
        "(test_delivery_search.py)"
    ),
}


async def _world(app: App) -> World:
    async with app.sessions.begin() as session:
        now = app.clock.now()
        await add_account(app, session, name="Ada Admin", email=ADA, role=Role.ADMIN)
        sam = await add_account(app, session)
        kit = await add_account(app, session, name="Kit Lane", email=KIT)
        await add_account(app, session, name="Lee Park", email=LEE)
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        cal = await add_expert(
            app, session, preferred_name="Cal", ref="EX-3", link_worker=LEE, phone="07123 456781"
        )
        engagement = await add_engagement(app, session, experts=[ana, cal])
        invitations = {i.expert_id: i.id for i in engagement.invitations}
        window = ContactWindow(expert_id=ana.id, days="mon-fri", start=time(9), end=time(17))
        change = ContactChange(
            expert_id=ana.id,
            channel=Channel.SMS,
            value="+447123456702",
            status=ChangeStatus.PENDING,
            requested_by_id=kit.id,
            requested_at=now,
        )
        reply = Reply(expert_id=ana.id, channel=Channel.SMS, body="Thanks", received_at=now)
        session.add_all([window, change, reply])
        task = await open_task(
            session, kind=TaskKind.PHONE_CALL, title="Phone call", now=now, assignee=sam, expert=ana
        )
        line = await ledger.open_line(
            session, engagement.invitations[0], PaymentPurpose.TRAVEL, 640, now=now, actor="t"
        )
        message = await session.scalar(select(Message).where(Message.expert_id == ana.id))
        assert message is not None
        await session.flush()
        # Sam is away today, and Kit covers for them.
        sam_row = await session.get(Staff, sam.id)
        assert sam_row is not None
        sam_row.cover_id = kit.id
        sam_row.away_from = now.date() - timedelta(days=1)
        sam_row.away_until = now.date() + timedelta(days=3)
        shared = {
            "engagement_id": engagement.id,
            "window_id": window.id,
            "change_id": change.id,
            "task_id": task.id,
            "reply_id": reply.id,
            "message_id": message.id,
            "staff_id": sam.id,
            "line_id": line.id,
        }
        return World(
            {
                **shared,
                "sam:expert_id": ana.id,
                "lee:expert_id": cal.id,
                "sam:invitation_id": invitations[ana.id],
                "lee:invitation_id": invitations[cal.id],
            }
        )


_PARAMETERS = (
    *("engagement_id", "invitation_id", "expert_id", "window_id", "change_id"),
    *("task_id", "reply_id", "message_id", "staff_id", "line_id"),
)


def _path(template: str, world: World, owner: str) -> str:
    """The route with its ids filled in: records of the owner's caseload where it matters."""
    values = {n: world.ids.get(f"{owner}:{n}", world.ids.get(n)) for n in _PARAMETERS}
    return template.format(**values)


async def _everything(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sessions apart: a page load may touch its own)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if "session" in table.name:
                continue
            rows = await session.execute(select(table))
            found[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return found


def _post_paths(routes: list[Any]) -> set[str]:
    """Every POST path, through included routers (which FastAPI may keep as one entry)."""
    found: set[str] = set()
    for route in routes:
        if isinstance(route, APIRoute):
            if "POST" in route.methods:
                found.add(route.path.replace(":int", "").replace(":path", ""))
        elif (inner := getattr(route, "original_router", None)) is not None:
            found |= _post_paths(inner.routes)
    return found


async def test_every_post_route_is_in_the_table(app: App) -> None:
    routes = {p for p in _post_paths(create_web_app(app).routes) if not p.startswith("/webhooks")}
    assert len(routes) > 30
    assert routes - TABLE.keys() - NOT_IN_THE_TABLE.keys() == set(), "say who may use it"
    assert (TABLE.keys() | NOT_IN_THE_TABLE.keys()) - routes == set(), "no such route now"


@pytest.mark.parametrize("template", sorted(TABLE))
async def test_only_those_who_may_change_a_record_reach_it(app: App, template: str) -> None:
    world = await _world(app)
    clients: dict[str, StaffClient] = {}
    opened = []
    for role, email in ROLES.items():
        opened.append(signed_in(app, email))
        clients[role] = await opened[-1].__aenter__()
    try:
        for owner, allowed in TABLE[template].items():
            path = _path(template, world, owner)
            before = await _everything(app)
            for role in sorted(set(ROLES) - allowed):
                response = await clients[role].post(path, FORM)
                assert response.status_code == 404, (role, path, response.status_code)
            assert await _everything(app) == before, f"{path} changed something"
            # The weakest first: once one has removed a window, the next finds none.
            for role in [r for r in ("cover", "other", "lead", "admin") if r in allowed]:
                response = await clients[role].post(path, FORM)
                assert response.status_code != 404, (role, path)
                if template in USED_UP:
                    break
    finally:
        for context in reversed(opened):
            await context.__aexit__(None, None, None)

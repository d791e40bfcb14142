"""No page shows "None": empty boxes stay empty, missing details say so in words, and a
box holding the word "None" counts as not filled in. Walked as a link worker and an
administrator, over an expert and engagements whose optional details are all empty."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from scheduling.clock import SimulatedClock
from store.enums import Purpose, Role
from store.models import Engagement, Message, Staff, Task
from tests.builders import FULL_DETAILS, add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in

SAM, ADMIN = "sam@example.org", "ada@example.org"
NOTHING = dict.fromkeys(FULL_DETAILS)
_NONE = re.compile(r"\bNone\b")


def _visible(page: httpx.Response) -> str:
    """What a person reads: the page without its scripts and styles."""
    return re.sub(r"<(script|style)\b.*?</\1>", "", page.text, flags=re.S)


async def _world(app: App, clock: SimulatedClock) -> dict[str, int]:
    """An expert with nothing optional filled in, a bare draft, a published engagement with
    no online link whose pre-brief went, and one cancelled late, leaving tasks."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Ada Admin", email=ADMIN, role=Role.ADMIN)
        ana = await add_expert(app, session, preferred_name="Ana")  # no ref, email or address
        draft = await add_engagement(app, session, title="Bare draft", publish=False, **NOTHING)
        going = await add_engagement(app, session, title="Going ahead", experts=[ana])
        called_off = await add_engagement(
            app, session, title="Called off", experts=[ana], starts_in=timedelta(days=8)
        )
    pre_brief = (await outbox(app, engagement_id=going.id, purpose=Purpose.PRE_BRIEF))[0]
    clock.set(pre_brief.due_at + timedelta(minutes=1))
    await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, called_off.id)
        clock.set(loaded.starts_at - timedelta(hours=5))
        await engagement_service.cancel(session, loaded, "venue shut", now=clock.now(), actor="t")
    async with app.sessions() as session:
        tasks = list(await session.scalars(select(Task.id)))
        admin = await session.scalar(select(Staff.id).where(Staff.email == ADMIN))
    return {
        "expert": ana.id,
        "draft": draft.id,
        "going": going.id,
        "called_off": called_off.id,
        "message": pre_brief.id,
        "admin": admin or 0,
        **{f"task{n}": t for n, t in enumerate(tasks)},
    }


def _paths(ids: dict[str, int]) -> list[str]:
    expert = f"/experts/{ids['expert']}"
    paths = [
        "/",
        "/experts",
        "/experts/new",
        *(f"/experts/new/{part}" for part in ("name", "contact", "channels", "times", "worker")),
        "/experts/changes",
        expert,
        *(f"{expert}/{part}" for part in ("edit", "channels", "consent", "contact", "windows")),
        *(f"{expert}/{part}" for part in ("pastoral", "pause", "telegram-link", "erase")),
        "/engagements",
        "/engagements/new",
        "/plans",
        "/plans/new",
        "/replies",
        "/tasks",
        "/tasks/letters",
        "/cover",
        "/account/password",
        "/admin/attention",
        "/admin/delivery",
        f"/admin/delivery/{ids['message']}",
        f"/admin/attention/{ids['message']}",
        f"/messages/{ids['message']}/preview",
        "/admin/channels",
        "/admin/audit",
        "/admin/privacy",
        "/admin/staff",
        "/admin/staff/new",
        f"/admin/staff/{ids['admin']}",
    ]
    for name in ("draft", "going", "called_off"):
        page = f"/engagements/{ids[name]}"
        paths += [page, *(f"{page}/{p}" for p in ("edit", "cancel", "invite", "move"))]
        paths += [f"{page}/{p}" for p in ("attendance", "outcomes")]
    paths += [f"/tasks/{v}" for k, v in ids.items() if k.startswith("task")]
    return paths


async def test_no_staff_page_shows_none(app: App, clock: SimulatedClock) -> None:
    ids = await _world(app, clock)
    seen = 0
    for email in (SAM, ADMIN):
        async with signed_in(app, email) as client:
            for path in _paths(ids):
                page = await client.get(path)
                if page.status_code == 404 or "text/html" not in page.headers["content-type"]:
                    continue
                seen += 1
                found = _NONE.findall(_visible(page))
                assert not found, f"{email} sees None on {path} ({page.status_code})"
    assert seen > 60


async def test_an_empty_form_starts_empty_and_none_is_not_filled_in(
    app: App, clock: SimulatedClock
) -> None:
    ids = await _world(app, clock)
    async with signed_in(app, SAM) as sam:
        new = (await sam.get("/engagements/new")).text
        edit = (await sam.get(f"/engagements/{ids['draft']}/edit")).text
        cancel = (await sam.get(f"/engagements/{ids['going']}/cancel")).text
    for form in (new, edit):
        for name in FULL_DETAILS:
            box = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', form, re.S)
            field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form)
            assert box or field, name
            if box:
                assert box.group(1).strip() == "", name
            else:
                assert field and re.search(r'value="[^"]', field.group(0)) is None, name
    reason = re.search(r'<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>', cancel, re.S)
    assert reason and reason.group(1).strip() == ""


async def test_a_draft_with_the_word_none_is_missing_those_details_and_cannot_publish(
    app: App, clock: SimulatedClock
) -> None:
    ids = await _world(app, clock)
    async with app.sessions.begin() as session:
        draft = await session.get(Engagement, ids["draft"])
        assert draft is not None
        for name, value in FULL_DETAILS.items():
            setattr(draft, name, value)
        draft.transport_and_expenses, draft.paperwork = "None", "  none "
    async with signed_in(app, SAM) as sam:
        page = await sam.get(f"/engagements/{ids['draft']}")
        published = await sam.post(f"/engagements/{ids['draft']}/publish")
    text = _visible(page)
    for label in ("Transport and expenses", "Paperwork"):
        item = re.search(
            rf"<li[^>]*task-list__item[^>]*>(?:(?!</li>).)*{label}.*?</li>", text, re.S
        )
        assert item and "Missing" in item.group(0), label
        row = re.search(rf"<dt[^>]*>\s*{label}\s*</dt>\s*<dd[^>]*>(.*?)</dd>", text, re.S)
        assert row and row.group(1).strip() == "Not filled in yet", label
    assert published.status_code in (303, 400)
    async with app.sessions() as session:
        after = await session.get(Engagement, ids["draft"])
        assert after is not None and after.status.value == "draft"


async def test_the_tasks_list_names_the_engagement_each_task_is_about(
    app: App, clock: SimulatedClock
) -> None:
    await _world(app, clock)
    async with signed_in(app, SAM) as sam:
        text = _visible(await sam.get("/tasks"))
    assert '<th scope="col" class="govuk-table__header">Engagement</th>' in text
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", text, re.S)
    cancelled = [r for r in rows if "Called off" in r]
    assert cancelled and all("(cancelled)" in r for r in cancelled)
    assert any("Going ahead" in r for r in rows) is False  # its pre-brief went: no task
    assert "Not about one person" in text  # the venue visit: for nobody in particular


async def test_a_message_that_would_show_none_is_handed_to_a_person_not_sent(
    app: App, clock: SimulatedClock
) -> None:
    """An engagement published before this check, its travel box holding "None"."""
    async with app.sessions.begin() as session:
        ana = await add_expert(
            app,
            session,
            email="ana@example.org",
            preferred_channel="email",
            consent={"email": {"allowed": True, "details_safe": True}},
        )
        meeting = await add_engagement(app, session, experts=[ana])
        row = await session.get(Engagement, meeting.id)
        assert row is not None
        row.transport_and_expenses = "None"
    pre_brief = (await outbox(app, purpose=Purpose.PRE_BRIEF))[0]
    clock.set(pre_brief.due_at + timedelta(minutes=1))
    await app.dispatcher().run_until_idle()
    files = [p for p in app.settings.resolved_outbox_dir.rglob("*") if p.is_file()]
    assert files == []
    async with app.sessions() as session:
        message = await session.get(Message, pre_brief.id)
        task = await session.scalar(select(Task).where(Task.message_id == pre_brief.id))
    assert message is not None and message.status.value == "failed"
    assert task is not None and task.title == "A message could not be sent"
    assert "the transport and expenses is not filled in" in (task.details or "")

"""A newcomer's pages in Chromium: every staff page fits a 375 px phone without the page
scrolling sideways, the menus fit at 1200 px, and adding an expert is a task list with a
check-your-answers page that keeps what was typed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from playwright.async_api import Page
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.web.app import create_web_app
from scheduling.clock import SimulatedClock
from store.enums import Channel, Purpose, Role
from store.models import Invitation, Reply, Task
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account
from tests.system.bot.web.admin.browser import (
    browser,
    check_accessibility,
    screenshot,
    served,
    sign_in,
)

pytestmark = pytest.mark.slow

SAM, ADA = "sam@example.org", "ada@example.org"
# Pages that are not pages: files, and the door in and out.
_NOT_PAGES = ("/webhooks", "/healthz", "/static", "/sign-in", "/sign-out")
_SECTIONS = ("name", "contact", "channels", "times", "worker")


async def _busy_world(app: App, clock: SimulatedClock) -> dict[str, list[str]]:
    """Long names and references, engagements in every state, tasks, a worrying reply and
    a delivery log: what makes tables wide. Returns each path parameter's values."""
    async with app.sessions.begin() as session:
        sam = await add_account(app, session, name="Samantha Taylor-Fitzgerald")
        ada = await add_account(app, session, name="Ada Admin", email=ADA, role=Role.ADMIN)
        people = [
            await add_expert(
                app,
                session,
                ref=f"EX-{n:04d}-LONGREF",
                preferred_name=name,
                phone=f"07123 45670{n}",
            )
            for n, name in enumerate(("Anastasia-Marie", "Bartholomew", "Christabel"), 1)
        ]
        draft = await add_engagement(app, session, title="A draft with a rather long title")
        going = await add_engagement(
            app, session, title="Service design workshop for first contact", experts=people
        )
        called_off = await add_engagement(
            app, session, title="Panel meeting", experts=people, starts_in=timedelta(days=8)
        )
    pre_brief = (await outbox(app, engagement_id=going.id, purpose=Purpose.PRE_BRIEF))[0]
    clock.set(pre_brief.due_at + timedelta(minutes=1))
    await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, called_off.id)
        clock.set(loaded.starts_at - timedelta(hours=5))
        await engagement_service.cancel(session, loaded, "venue shut", now=clock.now(), actor="t")
        reply = Reply(
            expert_id=people[0].id,
            channel=Channel.SMS,
            body="I am not doing well at all, can someone call me please",
            urgent=True,
            needs_person=True,
            received_at=clock.now(),
        )
        session.add(reply)
        await session.flush()
        reply_id = reply.id
    async with app.sessions() as session:
        tasks = [str(t) for t in (await session.scalars(select(Task.id).limit(3)))]
        invitation = await session.scalar(
            select(Invitation.id).where(Invitation.engagement_id == called_off.id)
        )
    return {
        "expert_id": [str(p.id) for p in people[:1]],
        "engagement_id": [str(e.id) for e in (draft, going, called_off)],
        "task_id": tasks,
        "reply_id": [str(reply_id)],
        "message_id": [str(pre_brief.id)],
        "staff_id": [str(sam.id), str(ada.id)],
        "invitation_id": [str(invitation)],
        "slug": list(_SECTIONS),
    }


def _get_paths(routes: list[Any]) -> set[str]:
    """Every GET path of the app, through included routers."""
    found: set[str] = set()
    for route in routes:
        if isinstance(route, APIRoute):
            if "GET" in route.methods:
                found.add(route.path.replace(":int", "").replace(":path", ""))
        elif (inner := getattr(route, "original_router", None)) is not None:
            found |= _get_paths(inner.routes)
    return found


def _filled(path: str, values: dict[str, list[str]]) -> list[str]:
    """The path once for each value of its parameters; [] when one has no value here."""
    paths = [path]
    for name, options in values.items():
        marker = "{" + name + "}"
        if marker in path:
            paths = [p.replace(marker, v) for p in paths for v in options]
    return [p for p in paths if "{" not in p]


async def _overflow(page: Page) -> int:
    """How far the page itself scrolls sideways (0 when it fits)."""
    width: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


async def test_no_staff_page_scrolls_sideways_on_a_phone(app: App, clock: SimulatedClock) -> None:
    values = await _busy_world(app, clock)
    paths = sorted(
        p
        for route in _get_paths(create_web_app(app).routes)
        if not route.startswith(_NOT_PAGES) and "export" not in route and "csv" not in route
        for p in _filled(route, values)
    )
    wide: list[str] = []
    seen = 0
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": 375, "height": 800})
        page = await context.new_page()
        await sign_in(page, url, ADA)
        for path in paths:
            answer = await page.goto(url + path)
            if answer is None or "text/html" not in answer.headers.get("content-type", ""):
                continue
            seen += 1
            if (extra := await _overflow(page)) > 0:
                wide.append(f"{path} ({extra} px too wide)")
        await context.close()
    assert seen > 60, paths
    assert not wide, "pages that scroll sideways at 375 px:\n" + "\n".join(wide)


async def test_a_wide_table_scrolls_inside_its_own_box_with_a_cue(
    app: App, clock: SimulatedClock
) -> None:
    await _busy_world(app, clock)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": 375, "height": 800})
        page = await context.new_page()
        await sign_in(page, url, ADA)
        # The delivery log stacks its rows on a phone; the audit log and the lists keep
        # their columns, in a box of their own.
        for path in ("/admin/audit", "/experts", "/engagements", "/tasks"):
            await page.goto(url + path)
            assert await _overflow(page) == 0
            box = page.locator("[data-app-scrolls]").first  # the table, or the box round it
            if await box.count() == 1:
                break
        assert await box.count() == 1, "no wide table to scroll on a phone"
        assert await box.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls itself
        assert await box.get_attribute("tabindex") == "0"  # by keyboard too
        assert await box.get_attribute("role") == "region"
        assert "scrolls sideways" in (await box.get_attribute("aria-label") or "")
        assert await page.get_by_text("Scroll sideways to see every column.").first.is_visible()
        shadows = await box.evaluate("e => getComputedStyle(e).backgroundImage")
        assert "radial-gradient" in shadows  # the cue without JavaScript too
        await check_accessibility(page)
        await box.evaluate("e => { e.scrollIntoView(); e.scrollLeft = 80; }")
        await screenshot(page, "phone-wide-table", full_page=False)
        await context.close()


async def test_the_menus_fit_one_row_each_at_1200_px(app: App, clock: SimulatedClock) -> None:
    await _busy_world(app, clock)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        for email in (SAM, ADA):
            await sign_in(page, url, email)
            await page.goto(url + "/experts")
            rows: list[int] = await page.evaluate(
                """[...document.querySelectorAll('nav .govuk-service-navigation__item, \
                   .app-admin-nav__item')]
                   .map(e => Math.round(e.getBoundingClientRect().top))"""
            )
            assert len(set(rows)) <= (2 if email == ADA else 1), (email, sorted(set(rows)))
            header = await page.locator("header").bounding_box()
            assert header is not None and header["height"] < 140, header
            await check_accessibility(page)
            if email == ADA:
                await screenshot(page, "menus-1200")
            await page.get_by_role("button", name="Sign out").click()
        await context.close()


async def test_adding_an_expert_is_a_task_list_that_keeps_what_was_typed(
    app: App, clock: SimulatedClock
) -> None:
    await _busy_world(app, clock)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": 375, "height": 800})
        page = await context.new_page()
        await sign_in(page, url, SAM)
        await page.goto(url + "/experts/new")
        await check_accessibility(page)
        await page.get_by_role("link", name="Name and reference").click()
        await page.fill("#preferred_name", "Dana")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("link", name="Contact details").click()
        await page.fill("#phone", "07123 456799")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("link", name="Channels and consent").click()
        await page.check("input[name=preferred_channel][value=sms]")
        await page.check("input[name=details][value=letter]")  # not a way they agreed to
        await page.get_by_role("button", name="Save and continue").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        assert "Select only ways they agree to" in await page.locator("#details-error").inner_text()
        assert await page.is_checked("input[name=preferred_channel][value=sms]")  # kept
        await check_accessibility(page)
        await page.uncheck("input[name=details][value=letter]")
        await page.get_by_role("button", name="Save and continue").click()
        # Away to another page and back: nothing typed so far is lost.
        await page.goto(url + "/tasks")
        await page.goto(url + "/experts/new/times")
        await page.check("input[name=window_days][value=sat]")
        await page.check("input[name=window_days][value=sun]")
        await page.check("input[name=window_all_day]")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("button", name="Check your answers").click()
        text = await page.locator("main").inner_text()
        assert "Dana" in text and "07123 456799" in text
        assert "Saturday and Sunday, at any time" in text
        assert await _overflow(page) == 0
        await check_accessibility(page)
        await screenshot(page, "phone-expert-check-answers", full_page=False)
        await page.get_by_role("button", name="Add expert").click()
        await page.wait_for_url(url + "/experts/*")
        assert "Dana" in await page.content()
        await context.close()

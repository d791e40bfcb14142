"""The link worker's urgent journeys in a real browser (Debian's Chromium), each page checked
by axe-core, at desktop width and on a 375 px phone: working the late-cancellation call list
in one pass, and acting on a worrying reply from the red banner on Home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from tests.builders import add_engagement, add_expert
from tests.integration.bot.web.admin.test_replies import team, text_in
from tests.staff_client import PASSWORD, add_account
from tests.system.bot.web.admin.browser import browser, check_accessibility, screenshot, served

pytestmark = pytest.mark.slow

WIDTHS = [pytest.param(1200, id="desktop"), pytest.param(375, id="phone")]


async def _sign_in(page: Page, url: str, email: str) -> None:
    await page.goto(url + "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/")


async def _fits(page: Page, selector: str) -> None:
    """Nothing in this part of the page needs a sideways scroll."""
    overflow = await page.eval_on_selector(
        selector, "e => e.scrollWidth - e.clientWidth + e.getBoundingClientRect().right"
    )
    width = await page.evaluate("window.innerWidth")
    assert overflow <= width, f"{selector} is wider than the screen ({overflow} > {width})"


async def _late_cancellation(app: App) -> int:
    """Ana agreed to calls only at weekends; Bea only to texts. Monday 8am: the meeting at
    6pm is cancelled."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        ana = await add_expert(
            app,
            session,
            preferred_name="Ana",
            ref="EX-1",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
            windows=[{"days": "sat-sun", "hours": "10:00-22:00"}],
        )
        bea = await add_expert(app, session, preferred_name="Bea", ref="EX-2", phone="07123 456780")
        engagement = await add_engagement(
            app, session, starts_in=timedelta(hours=10), experts=[ana, bea]
        )
        await engagement_service.cancel(
            session, engagement, "The venue flooded", now=app.clock.now(), actor="test"
        )
        return engagement.id


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_call_list_is_worked_in_one_pass(app: App, width: int) -> None:
    engagement_id = await _late_cancellation(app)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")
        await page.goto(f"{url}/engagements/{engagement_id}")
        calls = page.locator("#calls")
        text = await calls.inner_text()
        assert "Who still has to be phoned (2)" in text
        assert "No safe time to call them comes before it starts" in text  # Ana: weekends
        assert "Phone calls are not agreed as safe for them" in text  # Bea: texts only
        assert "Written notice" in text
        assert await calls.locator("a[href='tel:+447123456780']").count() == 1
        await check_accessibility(page)
        await _fits(page, "#calls")
        await screenshot(page, f"call-list-{width}")

        bea = page.locator(".govuk-summary-card").filter(has_text="Bea (EX-2)")
        await bea.get_by_label("What was said (optional)").fill("Spoke to her; she won't travel")
        await bea.get_by_role("button", name="Told by phone").click()
        await page.wait_for_url(f"{url}/engagements/{engagement_id}#calls")
        text = await page.locator("#calls").inner_text()
        assert "Who still has to be phoned (1)" in text
        assert "Note: Spoke to her; she won't travel" in text
        await check_accessibility(page)

        await page.get_by_role("button", name="Undo: they were not told").click()
        await page.wait_for_url(f"{url}/engagements/{engagement_id}#calls")
        text = await page.locator("#calls").inner_text()
        assert "Who still has to be phoned (2)" in text and "back on the list" in (
            await page.content()
        )
        await check_accessibility(page)
        await _fits(page, "#calls")
        await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_worrying_reply_is_seen_on_home_and_settled_in_one_act(
    app: App, width: int
) -> None:
    await team(app)
    await text_in(app, "I can't cope any more")
    app.clock.advance(timedelta(minutes=7))  # type: ignore[attr-defined]
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")
        banner = page.locator("#worrying")
        assert "Ana (EX-1) wrote 7 minutes ago" in await banner.inner_text()
        assert "govuk-error-summary" in (await banner.get_attribute("class") or "")
        await check_accessibility(page)
        await _fits(page, "#worrying")
        await screenshot(page, f"home-worrying-{width}")

        await banner.get_by_role("link", name="Ana (EX-1) wrote 7 minutes ago").click()
        await page.wait_for_url(f"{url}/replies/*")
        reach = await page.locator("main").inner_text()
        assert "How to reach them safely" in reach
        assert "Phone calls are not agreed as safe for them" in reach
        assert "Text message (the way they prefer)" in reach
        await check_accessibility(page)
        await screenshot(page, f"reply-worrying-{width}")

        # Nothing written: refused, with the GOV.UK error summary pointing at the box.
        await page.get_by_role("button", name="Record what I did and close the task").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        await check_accessibility(page)
        await page.get_by_label("What did you do?").fill("Texted at 9am; she is with her sister")
        await page.get_by_role("button", name="Record what I did and close the task").click()
        await page.wait_for_url(f"{url}/replies")
        assert "Its task is closed" in await page.content()
        await page.goto(url + "/")
        assert await page.locator("#worrying").count() == 0
        await context.close()

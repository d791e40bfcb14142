"""The expert's contact agreement and leaving with care, in a real browser (Debian's
Chromium; the forms are plain HTML), each page checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from store.enums import ExpertStatus
from store.models import Expert
from tests.builders import add_engagement, add_expert
from tests.staff_client import PASSWORD, add_account
from tests.system.bot.web.admin.browser import browser, check_accessibility, screenshot, served

pytestmark = pytest.mark.slow


async def _sign_in(page: Page, url: str, email: str) -> None:
    await page.goto(url + "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/")


async def _look(page: Page, name: str) -> None:
    await check_accessibility(page)
    await screenshot(page, name)


async def _ana(app: App) -> int:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Sam Taylor", email="sam@example.org")
        ana = await add_expert(app, session, ref="EX-1")
        await add_engagement(app, session, experts=[ana])
        return ana.id


async def test_a_link_worker_sets_the_not_safe_word_without_ever_seeing_it_again(
    app: App,
) -> None:
    ana = await _ana(app)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context()  # axe-core runs as a script in the page
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")
        await page.goto(f"{url}/experts/{ana}")
        await page.get_by_role("link", name="Change their not safe now word").click()
        await _look(page, "not-safe-word")
        await page.get_by_label("Their word").fill("stop")
        await page.get_by_role("button", name="Save the word").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        assert await page.get_by_label("Their word").input_value() == ""  # never shown back
        await _look(page, "not-safe-word-refused")
        await page.get_by_label("Their word").fill("Pineapple")
        await page.get_by_role("button", name="Save the word").click()
        await page.wait_for_url(f"{url}/experts/{ana}")
        content = await page.content()
        assert "is saved" in content and "ineapple" not in content
        await context.close()
    async with app.sessions() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None and expert.safe_word_hash is not None


async def test_a_link_worker_confirms_someone_is_leaving_and_writes_a_goodbye(app: App) -> None:
    ana = await _ana(app)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context()  # axe-core runs as a script in the page
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")
        await page.goto(f"{url}/experts/{ana}")
        await page.get_by_role("link", name="They are leaving").click()
        await _look(page, "withdraw")
        await page.get_by_label("Why are they leaving?").fill("Moving away")
        await page.get_by_label("A goodbye in your own words (optional)").fill(
            "Thank you for everything, Ana. The door is always open."
        )
        await page.get_by_role("button", name="Confirm they are leaving").click()
        assert await page.locator(".govuk-error-summary").count() == 1  # not confirmed yet
        await _look(page, "withdraw-unconfirmed")
        await page.get_by_label("I have talked this through with them").check()
        await page.get_by_role("button", name="Confirm they are leaving").click()
        await page.wait_for_url(f"{url}/experts/{ana}")
        content = await page.content()
        assert "They have left" in content and "Left on" in content
        await _look(page, "withdrawn")
        await context.close()
    async with app.sessions() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None and expert.status is ExpertStatus.WITHDRAWN

"""The pay journey in a real browser (Debian's Chromium), each page checked by axe-core: a
link worker records someone's payment choice and what they are owed on the engagement, a
wrong amount is refused with nothing saved, and an administrator approves and pays it from
the list of what is owed."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from store.enums import Role
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
    assert "None" not in await page.locator("main").inner_text()


async def test_from_a_claim_to_paid_in_the_browser(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Sam Taylor", email="sam@example.org")
        await add_account(
            app, session, name="Alex Morgan", email="alex@example.org", role=Role.ADMIN
        )
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        engagement = await add_engagement(app, session, experts=[ana], title="Listening panel")
        ana_id, engagement_id = ana.id, engagement.id
    async with served(app) as url, browser() as chromium:
        page = await chromium.new_page()
        await _sign_in(page, url, "sam@example.org")

        await page.goto(f"{url}/experts/{ana_id}")
        await page.get_by_role("link", name="How they chose to be paid").click()
        assert "Not asked yet" in await page.content()
        await page.get_by_label("Talk to me first (benefits)").check()
        await page.get_by_label("Anything else they said").fill("On Universal Credit")
        await page.get_by_role("button", name="Save their choice").click()
        assert "Payment choice saved" in await page.content()
        await _look(page, "expert-payments")

        await page.goto(f"{url}/engagements/{engagement_id}")
        await page.get_by_role("link", name="What it offers, and what each person is owed").click()
        await page.get_by_label("Who it is for").select_option(label="Ana (EX-1)")
        await page.get_by_label("What it is for").select_option(label="Travel")
        await page.get_by_label("Amount", exact=True).fill("six pounds")
        await page.get_by_role("button", name="Record what is owed").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        assert "not an amount of money" in await page.content()
        await check_accessibility(page)
        await page.get_by_label("Who it is for").select_option(label="Ana (EX-1)")
        await page.get_by_label("What it is for").select_option(label="Travel")
        await page.get_by_label("Amount", exact=True).fill("6.40")
        await page.get_by_role("button", name="Record what is owed").click()
        assert "LL000001: £6.40 recorded as owed" in await page.content()
        await _look(page, "engagement-payments")
        await page.get_by_role("button", name="Sign out").click()

        await _sign_in(page, url, "alex@example.org")
        await page.get_by_role("link", name="Payments").first.click()
        await page.wait_for_url(url + "/admin/payments")
        await _look(page, "payments-owed")
        await page.get_by_role("button", name="Approve LL000001").click()
        assert "LL000001 approved" in await page.content()
        await page.get_by_role("button", name="Mark LL000001 paid").click()
        assert "LL000001 marked paid" in await page.content()
        assert "Nothing is owed." in await page.content()
        await _look(page, "payments-paid")

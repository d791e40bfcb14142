"""The staff pages in a real browser (Debian's Chromium), each checked by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from store.enums import Role
from tests.builders import FULL_DETAILS
from tests.staff_client import PASSWORD, add_account
from tests.system.bot.web.admin.browser import browser, check_accessibility, screenshot, served

pytestmark = pytest.mark.slow


async def test_signing_in_works_without_javascript(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Morgan", email="alex@example.org")
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(java_script_enabled=False)
        page = await context.new_page()
        await page.goto(url + "/")
        assert page.url.endswith("/sign-in")
        await page.get_by_label("Email address").fill("alex@example.org")
        await page.get_by_label("Password", exact=True).fill("wrong password here")
        await page.get_by_role("button", name="Sign in").click()
        assert "Enter the email address and password" in await page.content()
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(url + "/")
        assert "What needs you today" in await page.content()
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/sign-in?signed_out=1")
        await context.close()


async def test_the_sign_in_page_and_its_errors_are_accessible(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(
            app, session, name="Alex Morgan", email="alex@example.org", role=Role.ADMIN
        )
    async with served(app) as url, browser() as chromium:
        page = await chromium.new_page()
        await page.goto(url + "/sign-in")
        await check_accessibility(page)
        await screenshot(page, "sign-in")
        await page.get_by_role("button", name="Sign in").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        await check_accessibility(page)


async def _sign_in(page: Page, url: str, email: str) -> None:
    await page.goto(url + "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/")


async def _look(page: Page, name: str) -> None:
    """Every page the flow passes is checked by axe and, for the README, photographed."""
    await check_accessibility(page)
    await screenshot(page, name)


async def test_a_link_worker_sets_up_an_engagement_and_handles_its_late_cancellation(
    app: App,
) -> None:
    """The issue's journey: sign in, add an expert, create and publish an engagement,
    invite, see the planned messages, cancel inside 24 hours and make the calls, then an
    administrator reads the delivery log."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Sam Taylor", email="sam@example.org")
        await add_account(
            app, session, name="Alex Morgan", email="alex@example.org", role=Role.ADMIN
        )
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")
        await _look(page, "home")

        # Add an expert, part by part, with the consent and safe times agreed with her.
        await page.goto(url + "/experts/new")
        await _look(page, "expert-new")
        await page.get_by_role("link", name="Name and reference").click()
        await page.fill("#preferred_name", "Ana")
        await page.fill("#ref", "EX-01")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("link", name="Contact details").click()
        await page.fill("#phone", "07123 456789")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("link", name="Channels and consent").click()
        await page.check("input[name=preferred_channel][value=sms]")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("link", name="Safe times").click()
        await page.check("input[name=window_days][value=sat]")
        await page.fill("#window_from", "9am")
        await page.fill("#window_until", "5:30pm")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_role("button", name="Check your answers").click()
        await _look(page, "expert-check-answers")
        await page.get_by_role("button", name="Add expert").click()
        await page.wait_for_url(url + "/experts/*")
        assert "Ana" in await page.content()
        await _look(page, "expert-profile")

        # An engagement, first as an incomplete draft: publishing says what is missing.
        await page.goto(url + "/engagements/new")
        await page.fill("#title", "First contact workshop")
        await page.fill("#starts_on-day", "26")
        await page.fill("#starts_on-month", "1")
        await page.fill("#starts_on-year", "2026")
        await page.fill("#start_time", "14:00")
        await page.fill("#end_time", "16:00")
        await page.fill("#purpose", FULL_DETAILS["purpose"])
        await page.get_by_role("button", name="Save as a draft").click()
        await page.wait_for_url(url + "/engagements/*")
        engagement_url = page.url
        await page.get_by_role("button", name="Publish").click()
        assert await page.locator(".govuk-error-summary").count() == 1
        await _look(page, "engagement-missing-details")
        await page.goto(engagement_url + "/edit")
        for name, text in FULL_DETAILS.items():
            await page.fill(f"#{name}", text)
        await page.get_by_role("button", name="Save changes").click()
        await page.wait_for_url(engagement_url)
        await page.get_by_role("button", name="Publish").click()
        await page.wait_for_url(engagement_url)

        # Invite Ana; her planned messages appear with their times.
        await page.goto(engagement_url + "/invite")
        await page.get_by_label("Ana (EX-01)").check()
        await page.get_by_role("button", name="Invite").click()
        await page.wait_for_url(engagement_url)
        content = await page.content()
        assert "Pre-brief" in content and "Reminder" in content
        await _look(page, "engagement")

        # The pre-brief goes out (dry run); then, the morning of the day, the venue floods.
        app.clock.set(datetime(2026, 1, 19, 10, 0, tzinfo=UTC))  # type: ignore[attr-defined]
        await app.dispatcher().run_until_idle()
        app.clock.set(datetime(2026, 1, 26, 8, 0, tzinfo=UTC))  # type: ignore[attr-defined]
        await _sign_in(page, url, "sam@example.org")  # a week on: that session has ended
        await page.goto(engagement_url + "/cancel")
        assert "less than 24 hours" in await page.content()
        await page.fill("#reason", "The venue flooded")
        await page.get_by_role("button", name="Cancel the engagement").click()
        await page.wait_for_url(engagement_url)
        assert "Who still has to be phoned" in await page.content()
        await _look(page, "cancelled-call-list")

        # Sam works the phone task from the task list.
        await page.goto(url + "/tasks")
        await _look(page, "tasks")
        await page.locator("a[href^='/tasks/']").filter(has_text="ancel").first.click()
        await _look(page, "task")
        await page.fill("#outcome", "Told her by phone; she was relieved to know in time.")
        await page.get_by_role("button", name="Close the task").click()
        await page.wait_for_url(url + "/tasks*")
        await context.close()

        # The administrator reads the delivery log.
        context = await chromium.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "alex@example.org")
        await page.goto(url + "/admin/delivery")
        content = await page.content()
        assert "EX-01" in content and "Pre-brief" in content
        await _look(page, "delivery-log")
        await page.locator("a[href^='/admin/delivery/']").first.click()
        assert "only their link worker sees message text" in await page.content()
        await _look(page, "delivery-message")
        await page.goto(url + "/admin/channels")
        await _look(page, "channels")
        await page.goto(url + "/admin/attention")
        await _look(page, "attention")
        await context.close()

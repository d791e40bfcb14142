"""Seeing what will really happen, in a real browser (Debian's Chromium) at a desk (1200 px)
and on a phone (375 px), each page checked by axe-core: planned messages with their real
times, the preview of each channel, the too-soon warning before Publish; and for an
administrator, the delivery log with nothing hidden sideways, the search, a failing
channel and the counts that open the filtered log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from store.enums import AttemptOutcome, Channel, Role
from store.models import DeliveryAttempt
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import PASSWORD, add_account
from tests.system.bot.web.admin.browser import browser, check_accessibility, served

pytestmark = pytest.mark.slow

WIDTHS = [pytest.param(1200, id="desktop"), pytest.param(375, id="phone")]
ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"


async def _sign_in(page: Page, url: str, email: str) -> None:
    await page.goto(url + "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/")


async def _no_sideways_scroll(page: Page) -> None:
    """The page itself never scrolls sideways, and no table hides columns in a scroll."""
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    hidden = await page.evaluate(
        "() => [...document.querySelectorAll('table')]"
        ".filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length"
    )
    assert hidden == 0, f"{page.url} has a table wider than its column"


async def _look(page: Page) -> None:
    await check_accessibility(page)
    await _no_sideways_scroll(page)


async def _world(app: App) -> dict[str, int]:
    """Sam's Ana (text first, letters agreed too) invited to a published engagement; a
    draft eleven hours away; Alex the administrator; the email channel failing today."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Sam Taylor", email="sam@example.org")
        await add_account(
            app, session, name="Alex Morgan", email="alex@example.org", role=Role.ADMIN
        )
        ana = await add_expert(
            app,
            session,
            preferred_name="Ana Long",
            ref="EX-01",
            fallback_channels=["letter"],
            postal_address=ADDRESS,
            consent={"sms": {"allowed": True}, "letter": {"allowed": True}},
            windows=[{"days": "every day", "hours": "18:00-20:00"}],
        )
        published = await add_engagement(app, session, experts=[ana])
        draft = await add_engagement(
            app,
            session,
            title="Short-notice session",
            experts=[ana],
            publish=False,
            starts_in=timedelta(hours=11),
        )
        ids = {"ana": ana.id, "published": published.id, "draft": draft.id}
    message = (await outbox(app, expert_id=ids["ana"]))[0]
    ids["message"] = message.id
    async with app.sessions.begin() as session:
        for n in range(6):
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    channel=Channel.EMAIL,
                    router_reason="email",
                    outcome=AttemptOutcome.ACCEPTED if n < 2 else AttemptOutcome.TRANSIENT_FAILURE,
                    error=None if n < 2 else "Could not connect to the mail server",
                    worker="test",
                    started_at=app.clock.now() - timedelta(minutes=10 * n),
                    finished_at=app.clock.now(),
                )
            )
    return ids


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_link_worker_sees_what_will_really_happen(app: App, width: int) -> None:
    ids = await _world(app)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "sam@example.org")

        # The engagement page: the real time after her safe hours, and a preview link.
        await page.goto(f"{url}/engagements/{ids['published']}")
        await check_accessibility(page)
        planned = page.locator("#messages ~ table").first
        assert "Waits for their safe hours" in await planned.inner_text()
        tags = await planned.locator(".govuk-tag").all_inner_texts()
        assert "Waiting" in tags and "Planned" not in tags
        assert await planned.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth + 1")

        # Her own page lists the same, with the same words.
        await page.goto(f"{url}/experts/{ids['ana']}")
        await check_accessibility(page)
        coming = page.locator("#coming-up ~ table").first
        assert "Waits for their safe hours" in await coming.inner_text()
        assert "Waiting" in await coming.inner_text()

        # The preview of the text message: its length and parts, and her name in it.
        await coming.get_by_role("link").first.click()
        await page.wait_for_url("**/messages/*/preview")
        await _look(page)
        text = await page.locator("main").inner_text()
        assert "characters" in text and "text message" in text
        assert "Ana" in await page.locator("#message-text").inner_text()

        # The same message as a letter: its first page as a picture that really loads.
        await page.get_by_role("link", name="Letter").click()
        await page.wait_for_url("**/preview?channel=letter*")
        picture = page.locator("img.app-letter-preview")
        await picture.wait_for()
        await page.wait_for_function(
            "() => document.querySelector('img.app-letter-preview').complete"
        )
        assert await picture.evaluate("img => img.naturalWidth") > 0
        await _look(page)

        # The draft eleven hours away warns before anyone presses Publish.
        await page.goto(f"{url}/engagements/{ids['draft']}")
        warning = page.locator("#too-soon")
        assert "reminder (1 day before) cannot happen" in await warning.inner_text()
        assert await page.get_by_role("button", name="Publish anyway").is_visible()
        await check_accessibility(page)
        await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_administrator_sees_failures_at_a_glance(app: App, width: int) -> None:
    await _world(app)
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        await _sign_in(page, url, "alex@example.org")

        # The delivery log: "Provider said" and "Tries" are on screen, not behind a scroll.
        await page.goto(url + "/admin/delivery")
        await _look(page)
        first_row = page.locator("table tbody tr").first
        for column in ("Provider said", "Tries"):
            cell = first_row.locator(f"td[data-label='{column}']")
            box = await cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

        # Search by name, lower case: her messages, with nothing typed in the address.
        await page.get_by_label("Find an expert").fill("ana lo")
        await page.get_by_role("button", name="Find").click()
        await page.wait_for_url("**/admin/delivery?person=*")
        assert "ana" not in page.url.split("?", 1)[1].lower()
        assert "to EX-01" in await page.locator("caption").inner_text()
        await _look(page)

        # The email channel failing 67 % says so, with the threshold.
        await page.goto(url + "/admin/channels")
        await _look(page)
        email_card = page.locator(".govuk-summary-card", has_text="Email").first
        assert "Failing" in await email_card.inner_text()
        assert "from 50%" in await email_card.inner_text()

        # A count opens the same messages in the log.
        await page.locator("main a[href^='/admin/delivery?status=pending&from=']").click()
        await page.wait_for_url("**/admin/delivery?status=pending*")
        assert await page.locator("select#status").input_value() == "pending"

        # And Needs attention is not empty while it fails.
        await page.goto(url + "/admin/attention")
        await _look(page)
        assert "Channels failing (1)" in await page.locator("main").inner_text()
        await context.close()

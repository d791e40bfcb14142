"""Holding a conversation in a real browser (Debian's Chromium): writing from an expert's
page and answering a reply, each previewed then confirmed, and the thread with staff notes
apart; on a desktop and a 375-pixel phone screen, and with JavaScript off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page

from bot.bootstrap import App
from tests.builders import add_expert
from tests.integration.bot.web.admin.test_replies import text_in
from tests.staff_client import add_account
from tests.system.bot.web.admin.browser import (
    browser,
    check_accessibility,
    no_sideways_scrolling,
    screenshot,
    served,
    sign_in,
)

pytestmark = pytest.mark.slow

SCREENS = [
    pytest.param(1200, True, id="desktop"),
    pytest.param(375, True, id="phone"),
    pytest.param(375, False, id="phone-without-javascript"),
]


async def _look(page: Page, name: str, *, javascript: bool, width: int) -> None:
    if javascript:
        await check_accessibility(page)
        await no_sideways_scrolling(page, width)
    await screenshot(page, f"{name}-{width}")


async def _write(page: Page, words: str) -> None:
    await page.get_by_label("Your message").fill(words)
    await page.get_by_role("button", name="Preview the message").click()
    await page.wait_for_load_state()


@pytest.mark.parametrize(("width", "javascript"), SCREENS)
async def test_a_link_worker_writes_answers_and_reads_the_conversation(
    app: App, width: int, javascript: bool
) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        ana = await add_expert(app, session, ref="EX-1")
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]  # 11am: safe to send
    reply_id = await text_in(app, "Could we meet somewhere quieter next time?")
    look = {"javascript": javascript, "width": width}
    async with served(app) as url, browser() as chromium:
        context = await chromium.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=javascript
        )
        page = await context.new_page()
        await sign_in(page, url, "sam@example.org")

        # From her page: write, see the preview, change it, then send.
        await page.goto(f"{url}/experts/{ana.id}")
        await page.get_by_role("link", name="Write to them through Linkline").click()
        await _look(page, "talk-write", **look)
        await _write(page, "Hi Ana, it's Sam. Hope the week is going OK.")
        body = await page.content()
        assert "Check your message before it goes" in body
        assert "Text message is the way they prefer." in body
        assert "1 text message" in body and "It will go straight away" in body
        await _look(page, "talk-preview", **look)
        await page.get_by_role("button", name="Change the message").click()
        await page.wait_for_load_state()
        assert "Hope the week is going OK." in await page.get_by_label("Your message").input_value()
        await _write(page, "Hi Ana, it's Sam. Hope the week is going OK. No need to reply.")
        await page.get_by_role("button", name="Send it").click()
        await page.wait_for_url(f"{url}/experts/{ana.id}/conversation")
        assert "is in the outbox" in await page.content()

        # From her reply: the answer goes the way she wrote.
        await page.goto(f"{url}/replies/{reply_id}")
        await page.get_by_role("link", name="Answer through Linkline").click()
        assert "Could we meet somewhere quieter next time?" in await page.content()
        await _write(page, "Yes, of course. I'll find a quiet room.")
        assert "so the answer goes the same way" in await page.content()
        await page.get_by_role("button", name="Send it").click()
        await page.wait_for_url(f"{url}/experts/{ana.id}/conversation")

        # A note for colleagues, kept apart from what she saw.
        await page.get_by_label("Add a note for colleagues").fill("Prefers quiet rooms.")
        await page.get_by_role("button", name="Keep the note").click()
        await page.wait_for_url(f"{url}/experts/{ana.id}/conversation#notes")
        thread = await page.get_by_test_id("thread").inner_text()
        notes = await page.get_by_test_id("notes").inner_text()
        assert thread.index("Could we meet somewhere quieter") < thread.index("quiet room.")
        assert "No need to reply." in thread and "Prefers quiet rooms." not in thread
        assert "Prefers quiet rooms." in notes and "Staff only" in notes
        assert "None" not in thread + notes
        await _look(page, "talk-conversation", **look)
        await context.close()

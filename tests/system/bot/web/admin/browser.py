"""Debian's Chromium driven by Playwright against the real service on loopback, with axe-core
checking each page, and screenshots for the README.

Playwright's own browser download cannot run here (and would not be Debian's security
updates anyway), so the tests use /usr/bin/chromium. A test never installs it: without it
the tests skip, and .ci/run installs it before the suite.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, Page, async_playwright

from bot.bootstrap import App
from bot.web.app import create_web_app
from tests.staff_client import PASSWORD

CHROMIUM = os.environ.get("LINKLINE_CHROMIUM", "/usr/bin/chromium")
# A folder the flow saves its pages to (`make screenshots`). Read at import: the tests'
# own fixture clears LINKLINE_* variables before each test.
SCREENSHOTS = os.environ.get("LINKLINE_SCREENSHOTS")
# Started as the machine's probe found works in a sandbox with no network beyond loopback.
_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_BLOCKING = {"serious", "critical"}


def chromium_or_skip() -> str:
    """The browser's path, or a skip saying how to get it: a test changes nothing on the machine."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    pytest.skip(f"Chromium is not installed at {CHROMIUM}: .ci/run installs it")


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    path = chromium_or_skip()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def check_accessibility(page: Page) -> None:
    """Fails on any serious or critical WCAG 2.2 AA violation axe-core finds on the page."""
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": _AXE_TAGS}})
    blocking = [v for v in results.response["violations"] if v.get("impact") in _BLOCKING]
    if blocking:
        lines = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in blocking
        ]
        raise AssertionError(f"accessibility problems on {page.url}:\n" + "\n".join(lines))


async def no_sideways_scrolling(page: Page, width: int) -> None:
    """Nothing on the page is wider than the screen (a phone is 375 pixels wide)."""
    widest = await page.evaluate("document.documentElement.scrollWidth")
    assert widest <= width, f"{page.url} is {widest} pixels wide on a {width}-pixel screen"


async def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    """Signed in through the sign-in form, as a person does."""
    await page.goto(url + "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/")


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Saved only when LINKLINE_SCREENSHOTS names a folder (`make screenshots`); a phone's
    long page is better shown as one screenful (``full_page=False``)."""
    if SCREENSHOTS:
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        await page.screenshot(path=path, full_page=full_page)


@asynccontextmanager
async def served(app: App) -> AsyncIterator[str]:
    """The web app (pages and webhooks, no worker) on a free loopback port; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(app), host="127.0.0.1", port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving

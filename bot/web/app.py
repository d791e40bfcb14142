"""The web service: the staff pages, webhooks from Twilio and Telegram, and health.

The scheduler's worker and the Telegram bot live in the app's lifespan, so one event loop
runs them all, and a SIGTERM stops the clock and lets the send in flight finish before
the process exits. A Telegram outage at start-up does not keep texts from going: the bot
keeps trying in the background and its webhook answers 503 (Telegram retries) meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from telegram.ext import Application

from bot.bootstrap import App
from bot.web.admin import install_staff_pages
from bot.web.readiness import Readiness
from bot.web.webhooks.telegram import telegram_router
from bot.web.webhooks.telegram_app import build_application
from bot.web.webhooks.twilio_sms import twilio_sms_router
from bot.web.webhooks.twilio_status import twilio_status_router
from scheduling.worker import Worker

log = logging.getLogger(__name__)


def create_web_app(built: App, worker: Worker | None = None) -> FastAPI:
    worker = worker or built.worker()
    built.listening()  # a broken word list or support-lines file stops start-up here
    state = Readiness()
    telegram = build_application(built)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        starting = asyncio.create_task(_start_telegram(telegram, state)) if telegram else None
        state.serving = True
        try:
            yield
        finally:
            state.serving = False
            if starting is not None:
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
            if telegram is not None and state.telegram:
                state.telegram = False
                await telegram.stop()
                await telegram.shutdown()
            await worker.stop()

    web = FastAPI(
        title="Linkline", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    web.include_router(twilio_status_router(built))
    web.include_router(twilio_sms_router(built))
    web.include_router(telegram_router(built.settings, telegram, state))
    install_staff_pages(web, built)

    @web.get("/healthz")
    async def healthz() -> JSONResponse:
        """Ready when the scheduler runs and the database answers."""
        database = "ok"
        try:
            async with built.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            database = "unreachable"
        ready = state.serving and worker.running and database == "ok"
        body = {
            "status": "ok" if ready else "starting" if not state.serving else "unhealthy",
            "database": database,
            "scheduler": "running" if worker.running else "stopped",
            "telegram": "off" if telegram is None else "ready" if state.telegram else "starting",
            "channels": {
                m.channel.value: "live" if m.live else "dry-run"
                for m in built.settings.channel_modes()
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return web


async def _start_telegram(
    telegram: Application[Any, Any, Any, Any, Any, Any], state: Readiness
) -> None:
    """getMe until Telegram answers; a wrong token or an outage is logged, not fatal."""
    delay = 2.0
    while True:
        try:
            await telegram.initialize()
            await telegram.start()
        except Exception as exc:
            log.warning(
                "the Telegram bot could not start (%s); trying again in %.0f s",
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)
            continue
        state.telegram = True
        return

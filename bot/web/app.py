"""The web service: health now; webhooks and the admin pages join it later.

The scheduler's worker lives in the app's lifespan, so one event loop runs both, and a
SIGTERM stops the clock and lets the send in flight finish before the process exits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.bootstrap import App
from bot.web.twilio_status import twilio_status_router
from scheduling.worker import Worker


def create_web_app(built: App, worker: Worker | None = None) -> FastAPI:
    worker = worker or built.worker()
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        state["ready"] = True
        try:
            yield
        finally:
            state["ready"] = False
            await worker.stop()

    web = FastAPI(
        title="Linkline", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    web.include_router(twilio_status_router(built))

    @web.get("/healthz")
    async def healthz() -> JSONResponse:
        """Ready when the scheduler runs and the database answers."""
        database = "ok"
        try:
            async with built.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            database = "unreachable"
        ready = state["ready"] and worker.running and database == "ok"
        body = {
            "status": "ok" if ready else "starting" if not state["ready"] else "unhealthy",
            "database": database,
            "scheduler": "running" if worker.running else "stopped",
            "channels": {
                m.channel.value: "live" if m.live else "dry-run"
                for m in built.settings.channel_modes()
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return web

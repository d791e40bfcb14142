"""The whole web app served by uvicorn on loopback, with fake Twilio and Telegram behind it.

Requests are real HTTP: signed by Twilio's own RequestValidator algorithm, or carrying
Telegram's secret-token header; the app answers through the real SDKs to the fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.bootstrap import App, build_app
from bot.web.app import create_web_app
from bot.web.webhooks.telegram import PATH as TELEGRAM_PATH
from bot.web.webhooks.twilio_sms import PATH as SMS_PATH
from scheduling.clock import SimulatedClock
from store.models import Reply
from tests.conftest import make_settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio

PUBLIC = "https://linkline.example.org"
SECRET = "a-webhook-secret-of-enough-length_42"
OUR_NUMBER = "+447700900000"


@dataclass
class Live:
    app: App
    twilio: FakeTwilio
    telegram: FakeTelegram
    client: httpx.AsyncClient
    clock: SimulatedClock
    _sids: count[int] = field(default_factory=lambda: count(1))
    _updates: count[int] = field(default_factory=lambda: count(1000))

    def next_sid(self) -> str:
        return f"SM{next(self._sids):032x}"

    async def text(
        self, sender: str, body: str, *, sid: str | None = None, **extra: str
    ) -> httpx.Response:
        """An inbound SMS as Twilio posts it, signed for our public URL."""
        params = {
            "MessageSid": sid or self.next_sid(),
            "AccountSid": self.twilio.account_sid,
            "From": sender,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        signature = RequestValidator(self.twilio.auth_token).compute_signature(
            PUBLIC + SMS_PATH, params
        )
        return await self.client.post(
            SMS_PATH, data=params, headers={"X-Twilio-Signature": signature}
        )

    async def update(
        self, payload: dict[str, Any], *, secret: str | None = SECRET, update_id: int | None = None
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        body = {"update_id": update_id if update_id is not None else next(self._updates), **payload}
        return await self.client.post(TELEGRAM_PATH, json=body, headers=headers)

    async def chat(self, chat_id: int, text: str, **kw: Any) -> httpx.Response:
        return await self.update({"message": _message(chat_id, text)}, **kw)

    async def tap(self, chat_id: int, data: str, message_id: int = 1) -> httpx.Response:
        return await self.update(
            {
                "callback_query": {
                    "id": f"cb{next(self._updates)}",
                    "from": _user(chat_id),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {**_message(chat_id, "a question"), "message_id": message_id},
                }
            }
        )

    async def replies(self) -> list[Reply]:
        async with self.app.sessions() as session:
            return list(await session.scalars(select(Reply).order_by(Reply.id)))


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "A"}


def _message(chat_id: int, text: str) -> dict[str, Any]:
    return {
        "message_id": 7,
        "date": 1_790_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "A"},
        "from": _user(chat_id),
        "text": text,
        **(
            {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
            if text.startswith("/")
            else {}
        ),
    }


@asynccontextmanager
async def live_service(
    tmp_path: Path, database_url: str, clock: SimulatedClock, **settings: Any
) -> AsyncIterator[Live]:
    """Fakes up, the app built on a fresh database, uvicorn serving it on a free port."""
    twilio = await FakeTwilio().start()
    telegram = FakeTelegram()
    await telegram.start()
    config = make_settings(
        tmp_path,
        database_url,
        public_url=PUBLIC,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_from_number=OUR_NUMBER,
        twilio_api_base_url=twilio.url,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.url,
        telegram_webhook_secret=SECRET,
        dispatch_interval_seconds=0.2,
        **settings,
    )
    app = await build_app(config, clock=clock, upgrade=True)
    from tests.conftest import _truncate

    await _truncate(app)
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(app), host="127.0.0.1", port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(250):  # the bot starts in the background (getMe)
                if (await client.get("/healthz")).json().get("telegram") == "ready":
                    break
                await asyncio.sleep(0.02)
            yield Live(app, twilio, telegram, client, clock)
    finally:
        server.should_exit = True
        await serving
        await app.aclose()
        await twilio.close()
        await telegram.close()

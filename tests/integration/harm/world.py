"""The whole service for one hypothesis example: a fresh SQLite file, the real dispatcher,
the real webhooks over ASGI, fake Twilio and Telegram on loopback, dry-run email and letter
files, and a record of every word that actually left for an expert.

Nothing here decides whether a send was right: that is ``invariants.py``. This module only
builds the service and turns what the fakes, files and TwiML answers carried into
``Sent`` records, each tagged with the moment on the simulated clock.
"""

from __future__ import annotations

import email
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.policy import default as email_policy
from itertools import count
from pathlib import Path

import httpx
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.bootstrap import App, build_app
from bot.web.app import create_web_app
from bot.web.webhooks.telegram import PATH as TELEGRAM_PATH
from bot.web.webhooks.twilio_sms import PATH as SMS_PATH
from channels.dryrun import DryRunChannel
from channels.registry import ChannelRegistry
from scheduling.clock import SimulatedClock
from scheduling.worker import Worker
from store.enums import AttemptOutcome, Channel, Purpose
from store.models import DeliveryAttempt, Message
from tests.conftest import fresh_sqlite_file, make_settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio

PUBLIC = "https://linkline.example.org"
SECRET = "harm_webhook_secret-0123456789abcdef"
OUR_NUMBER = "+447700900000"
_TWIML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)


@dataclass(frozen=True)
class Sent:
    """One piece of text that reached (or would reach) an expert."""

    at: datetime  # the simulated clock when it left
    expert: str  # the cast name
    channel: Channel
    body: str
    provider_id: str | None  # ties a scheduled send to its outbox row
    answer_to: str | None = None  # the text they had just sent, for an immediate answer
    purpose: Purpose | None = None  # for a scheduled message, once attributed
    message_id: int | None = None


@dataclass
class World:
    app: App
    clock: SimulatedClock
    client: httpx.AsyncClient
    twilio: FakeTwilio
    telegram: FakeTelegram
    addresses: dict[tuple[Channel, str], str]  # (channel, address) -> cast name
    sent: list[Sent] = field(default_factory=list)
    _sids: count[int] = field(default_factory=lambda: count(1))
    _updates: count[int] = field(default_factory=lambda: count(1000))
    _seen_sms: int = 0
    _seen_telegram: int = 0
    _seen_files: set[Path] = field(default_factory=set)

    # --- what an expert does ------------------------------------------------------------

    async def text(self, who: str, phone: str, body: str) -> list[Sent]:
        """An inbound SMS as Twilio posts it; returns what came back to them."""
        params = {
            "MessageSid": f"SM{next(self._sids):032x}",
            "AccountSid": self.twilio.account_sid,
            "From": phone,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        signature = RequestValidator(self.twilio.auth_token).compute_signature(
            PUBLIC + SMS_PATH, params
        )
        response = await self.client.post(
            SMS_PATH, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200, (response.status_code, response.text[:300])
        now = self.clock.now()
        answers = [
            Sent(now, who, Channel.SMS, _unescape(m), None, answer_to=body)
            for m in _TWIML_MESSAGE.findall(response.text)
        ]
        answers += await self.collect(answer_to=body)
        self.sent += [a for a in answers if a.channel is Channel.SMS and a.provider_id is None]
        return answers

    async def chat(self, chat_id: str, body: str) -> list[Sent]:
        """A Telegram message as the Bot API posts it; returns what came back."""
        update = {
            "update_id": next(self._updates),
            "message": {
                "message_id": 7,
                "date": 1_790_000_000,
                "chat": {"id": int(chat_id), "type": "private", "first_name": "A"},
                "from": {"id": int(chat_id), "is_bot": False, "first_name": "A"},
                "text": body,
            },
        }
        response = await self.client.post(
            TELEGRAM_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return await self.collect(answer_to=body)

    # --- what left ------------------------------------------------------------------------

    async def dispatch(self) -> list[Sent]:
        await self.app.dispatcher().run_until_idle()
        # The worker's promise job, which runs every few minutes in the service.
        await self.app.maintenance().escalate_promises()
        await self.app.dispatcher().run_until_idle()
        return await self.collect()

    async def collect(self, answer_to: str | None = None) -> list[Sent]:
        """Everything new in the fakes' ledgers and the dry-run folders since last asked."""
        now, new = self.clock.now(), []
        for sms in self.twilio.ledger[self._seen_sms :]:
            who = self.addresses.get((Channel.SMS, sms.to), f"unknown {sms.to}")
            new.append(Sent(now, who, Channel.SMS, sms.body, sms.sid, answer_to))
        self._seen_sms = len(self.twilio.ledger)
        chats = self.telegram.ledger
        for message in chats[self._seen_telegram :]:
            who = self.addresses.get((Channel.TELEGRAM, message.chat_id), "unknown chat")
            provider = f"tg-{message.message_id}"
            new.append(Sent(now, who, Channel.TELEGRAM, message.text, provider, answer_to))
        self._seen_telegram = len(chats)
        new += self._new_files(now)
        new = await self._attribute(new)
        self.sent += new
        return new

    def _new_files(self, now: datetime) -> list[Sent]:
        found = []
        root = self.app.settings.resolved_outbox_dir
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path in self._seen_files or path.name.startswith(".partial-"):
                continue
            self._seen_files.add(path)
            provider = f"dryrun-{path.name.split('.')[0][-12:]}"
            if path.suffix == ".eml":
                parsed = email.message_from_bytes(path.read_bytes(), policy=email_policy)
                to = str(parsed["To"])
                body = f"{parsed['Subject']}\n" + _plain(parsed)
                who = next((n for (c, a), n in self.addresses.items() if a in to), to)
                found.append(Sent(now, who, Channel.EMAIL, body, provider))
            else:
                text = path.read_text()
                who = next(
                    (
                        n
                        for (c, a), n in self.addresses.items()
                        if c is Channel.LETTER and a.splitlines()[0] in text
                    ),
                    "unknown address",
                )
                found.append(Sent(now, who, Channel.LETTER, text, provider))
        return found

    async def _attribute(self, new: list[Sent]) -> list[Sent]:
        """A send with an outbox row behind it is a scheduled message: name its purpose."""
        ids = [s.provider_id for s in new if s.provider_id]
        if not ids:
            return new
        async with self.app.sessions() as session:
            rows = (
                await session.execute(
                    select(DeliveryAttempt.provider_id, Message.id, Message.purpose)
                    .join(Message, Message.id == DeliveryAttempt.message_id)
                    .where(
                        DeliveryAttempt.provider_id.in_(ids),
                        DeliveryAttempt.outcome == AttemptOutcome.ACCEPTED,
                    )
                )
            ).all()
        by_provider = {provider: (mid, purpose) for provider, mid, purpose in rows}
        out = []
        for s in new:
            if s.provider_id in by_provider:
                mid, purpose = by_provider[s.provider_id]
                s = Sent(s.at, s.expert, s.channel, s.body, s.provider_id, None, purpose, mid)
            out.append(s)
        return out


def _plain(message: email.message.Message) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part is not None else ""


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )


def _inert_worker(app: App) -> Worker:
    """The web app wants a worker; this one never fires within an example: every send the
    test sees comes from a dispatcher run it asked for, at a clock time it chose."""
    return Worker(app.dispatcher(), dispatch_every=3600.0, sweep_every=3600.0)


@asynccontextmanager
async def world(
    folder: Path, template: Path, clock: SimulatedClock, addresses: dict[tuple[Channel, str], str]
) -> AsyncIterator[World]:
    """The service on a private copy of the migrated SQLite file; letters are dry-run
    files (the same postal timing, without drawing PDFs) so an example takes milliseconds."""
    database = fresh_sqlite_file(template, folder / "linkline.db")
    async with AsyncExitStack() as stack:
        twilio = await FakeTwilio(callback_delay=3600.0).start()
        stack.push_async_callback(twilio.close)
        telegram = await stack.enter_async_context(FakeTelegram())
        settings = make_settings(
            folder,
            f"sqlite:///{database}",
            public_url=PUBLIC,
            twilio_account_sid=twilio.account_sid,
            twilio_auth_token=twilio.auth_token,
            twilio_from_number=OUR_NUMBER,
            twilio_api_base_url=twilio.url,
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.url,
            telegram_webhook_secret=SECRET,
        )
        app = await build_app(settings, clock=clock)
        stack.push_async_callback(app.aclose)
        letters = DryRunChannel(
            Channel.LETTER,
            settings.resolved_outbox_dir / "letter",
            postal_tz=settings.default_time_zone,
        )
        app.channels = ChannelRegistry(
            [app.channels[c] for c in app.channels if c is not Channel.LETTER] + [letters]
        )
        web = create_web_app(app, worker=_inert_worker(app))
        await stack.enter_async_context(web.router.lifespan_context(web))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver")
        )
        for _ in range(500):
            if (await client.get("/healthz")).json().get("telegram") == "ready":
                break
            await _sleep()
        else:
            raise AssertionError("the Telegram bot never became ready")
        yield World(app, clock, client, twilio, telegram, addresses)


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)

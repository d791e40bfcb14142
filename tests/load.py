"""Many SMS messages due now, for the several-workers tests and the lag benchmark.

Each expert gets everything the send-time rules check (a verified number, a consent a
named person confirmed, an invitation, safe hours open for the next 18 hours, bank
holidays allowed) and one message, so the frequency cap never holds one back, and each text is
unique (it greets "Person <n>"), so a ledger shows any copy sent twice.

The rows are added in bulk through the ORM: the services add one expert at a time, and
two thousand of them would take most of a test's minute.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.bootstrap import App
from bot.settings import Settings
from store.crypto import generate_secret_key
from store.engine import normalise_url
from store.enums import Channel, InvitationAnswer, Purpose
from store.models import (
    Base,
    ChannelConsent,
    ContactPoint,
    ContactWindow,
    Expert,
    Invitation,
    Message,
)
from tests.builders import add_engagement, add_staff

ZONE = "Europe/London"


def open_hours(now: datetime) -> tuple[time, time]:
    """Safe hours from two hours ago to 18 hours ahead, every day, so a run at any time of day
    can send at once. Not round the clock: a window that never closes makes the search for
    its end (the SMS validity period) walk a whole year on every send."""
    local = now.astimezone(ZoneInfo(ZONE)).replace(second=0, microsecond=0)
    return (local - timedelta(hours=2)).time(), (local + timedelta(hours=18)).time()


def phone_for(n: int) -> str:
    return f"+4471234{n:05d}"


def name_for(n: int) -> str:
    return f"Person {n}"


async def add_sms_experts(app: App, count: int, *, first: int = 0) -> tuple[int, list[int]]:
    """``count`` experts reachable by SMS now, invited to one engagement: (engagement, ids)."""
    now = app.clock.now()
    async with app.sessions.begin() as session:
        staff = await add_staff(session, now=now)
        engagement = await add_engagement(
            app, session, starts_in=timedelta(days=14), title="Load test"
        )
        hours = open_hours(now)
        experts = [_expert(app, staff.id, first + i, hours, now) for i in range(count)]
        session.add_all(experts)
        await session.flush()
        session.add_all(
            Invitation(
                engagement_id=engagement.id,
                expert_id=expert.id,
                answer=InvitationAnswer.YES,
                answered_at=now,
                created_at=now,
            )
            for expert in experts
        )
        return engagement.id, [expert.id for expert in experts]


def _expert(app: App, staff_id: int, n: int, hours: tuple[time, time], now: datetime) -> Expert:
    phone = phone_for(n)
    expert = Expert(
        preferred_name=name_for(n),
        time_zone=ZONE,
        preferred_channel=Channel.SMS,
        contact_on_bank_holidays=True,
        link_worker_id=staff_id,
        created_at=now,
        updated_at=now,
    )
    expert.contact_points.append(
        ContactPoint(
            channel=Channel.SMS,
            value=phone,
            lookup_hash=app.cipher.blind_index(phone),
            verified_at=now,
        )
    )
    expert.consents.append(
        ChannelConsent(
            channel=Channel.SMS,
            allowed=True,
            confirmed_on=date(2026, 1, 5),
            confirmed_by_id=staff_id,
        )
    )
    expert.windows.append(ContactWindow(days="every day", start=hours[0], end=hours[1]))
    return expert


async def add_due_messages(
    app: App, engagement_id: int, expert_ids: list[int], *, now: datetime | None = None
) -> list[int]:
    """One pre-brief per expert, due ``now`` (the clock's time by default)."""
    now = now or app.clock.now()
    async with app.sessions.begin() as session:
        messages = [
            Message(
                expert_id=expert_id,
                engagement_id=engagement_id,
                purpose=Purpose.PRE_BRIEF,
                idempotency_key=f"load:{engagement_id}:{expert_id}",
                due_at=now,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for expert_id in expert_ids
        ]
        session.add_all(messages)
        await session.flush()
        return [message.id for message in messages]


async def seed_due_sms(app: App, count: int) -> dict[int, str]:
    """``count`` experts, each with one SMS due now: message id -> the number it goes to."""
    engagement_id, expert_ids = await add_sms_experts(app, count)
    message_ids = await add_due_messages(app, engagement_id, expert_ids)
    return {message_id: phone_for(n) for n, message_id in enumerate(message_ids)}


def scratch_settings(folder: str, database_url: str | None, **extra: Any) -> Settings:
    """Settings for a benchmark or load test in a temporary folder, with a fresh key."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(folder),
        secret_key=generate_secret_key(),
        database_url=database_url or f"sqlite:///{folder}/bench.db",
        **extra,
    )


async def empty_database(engine: AsyncEngine) -> None:
    """Every Linkline table emptied (PostgreSQL only), ids starting again from 1."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


async def forget_key(database_url: str) -> None:
    """Each benchmark run makes a new key and empties the database anyway: drop the old
    key's fingerprint first, so a run that stopped half-way does not block the next one."""
    engine = create_async_engine(normalise_url(database_url))
    try:
        async with engine.begin() as conn:
            if await conn.scalar(text("SELECT to_regclass('linkline_meta')")) is not None:
                await conn.execute(text("DELETE FROM linkline_meta WHERE key = 'key_fingerprint'"))
    finally:
        await engine.dispose()

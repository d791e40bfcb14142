"""Linking a Telegram chat with a one-time code: the code works once, for the right
person, for a limited time, and a chat that keeps guessing is not answered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.profile import ExpertError
from bot.services.experts.telegram_links import (
    LinkCode,
    LinkOutcome,
    LinkResult,
    create_link,
    redeem,
)
from store.enums import Channel, ExpertStatus
from store.models import AuditEvent, ChannelConsent, ContactPoint, Expert, Reply, TelegramLink
from tests.builders import add_expert, add_staff

ANA_CHAT = "5550001"
BEN_CHAT = "5550002"
STRANGER_CHAT = "5550099"
HOURS = 72


async def _expert(app: App, **overrides: object) -> int:
    async with app.sessions.begin() as session:
        return (await add_expert(app, session, **overrides)).id


async def _code(app: App, expert_id: int, hours: int = HOURS) -> LinkCode:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        staff = await add_staff(session, now=app.clock.now())
        return await create_link(
            session, expert, staff, cipher=app.cipher, now=app.clock.now(), hours=hours
        )


async def _redeem(app: App, chat_id: str, code: str) -> LinkResult:
    async with app.sessions.begin() as session:
        return await redeem(
            session, cipher=app.cipher, chat_id=chat_id, code=code, now=app.clock.now()
        )


async def _telegram_point(app: App, expert_id: int) -> ContactPoint | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == expert_id, ContactPoint.channel == Channel.TELEGRAM
            )
        )


async def _refused_tries(app: App, chat_id: str, count: int, *, ago: timedelta) -> None:
    """What the inbound pipeline stores for each refused try."""
    async with app.sessions.begin() as session:
        for n in range(count):
            session.add(
                Reply(
                    channel=Channel.TELEGRAM,
                    provider_ref=f"tg-update-{chat_id}-{ago}-{n}",
                    sender=chat_id,
                    sender_hash=app.cipher.blind_index(chat_id),
                    body="/start",
                    intent="link_refused",
                    received_at=app.clock.now() - ago,
                )
            )


async def test_a_code_links_the_chat_that_sends_it(app: App) -> None:
    ana = await _expert(app)
    code = await _code(app, ana)
    result = await _redeem(app, ANA_CHAT, code.code)
    assert result.outcome is LinkOutcome.LINKED
    assert result.expert is not None and result.expert.id == ana
    point = await _telegram_point(app, ana)
    assert point is not None and point.value == ANA_CHAT and point.usable
    assert point.lookup_hash == app.cipher.blind_index(ANA_CHAT)  # replies will find her
    assert point.verified_at == app.clock.now()


async def test_linking_does_not_grant_consent_to_use_telegram(app: App) -> None:
    ana = await _expert(app)
    await _redeem(app, ANA_CHAT, (await _code(app, ana)).code)
    async with app.sessions() as session:
        consents = await session.scalars(
            select(ChannelConsent).where(
                ChannelConsent.expert_id == ana, ChannelConsent.channel == Channel.TELEGRAM
            )
        )
        assert list(consents) == []


async def test_the_code_is_long_random_url_safe_and_only_its_hash_is_kept(app: App) -> None:
    ana = await _expert(app)
    first, second = await _code(app, ana), await _code(app, ana)
    for made in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,64}", made.code)  # fits Telegram's start=
        assert len(made.code) * 6 >= 128  # at least 128 random bits
        assert made.code not in repr(made)
    assert first.code != second.code
    assert second.expires_at == app.clock.now() + timedelta(hours=HOURS)
    assert second.link("linkline_test_bot") == (
        f"https://t.me/linkline_test_bot?start={second.code}"
    )
    assert second.link("@linkline_test_bot") == second.link("linkline_test_bot")
    assert second.link(None) is None and second.start_command == f"/start {second.code}"
    async with app.sessions() as session:
        stored = list(await session.scalars(select(TelegramLink)))
        audit = list(await session.scalars(select(AuditEvent)))
    assert [s.code_hash for s in stored] == [app.cipher.blind_index(second.code)]
    kept = repr([(s.code_hash, s.expires_at) for s in stored]) + repr([a.data for a in audit])
    assert first.code not in kept and second.code not in kept
    assert "telegram.link_created" in {a.action for a in audit}


async def test_a_new_code_replaces_an_old_chat_and_clears_its_opt_out(app: App) -> None:
    """A new phone: the chat id on file is replaced, and writing to us clears the opt-out."""
    ana = await _expert(app, telegram_chat_id=ANA_CHAT)
    async with app.sessions.begin() as session:
        point = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == ana, ContactPoint.channel == Channel.TELEGRAM
            )
        )
        assert point is not None
        point.opted_out_at, point.opt_out_reason = app.clock.now(), "blocked the bot on Telegram"
    new_chat = "5550111"
    assert (await _redeem(app, new_chat, (await _code(app, ana)).code)).outcome is (
        LinkOutcome.LINKED
    )
    point = await _telegram_point(app, ana)
    assert point is not None and point.value == new_chat and point.usable
    assert point.lookup_hash == app.cipher.blind_index(new_chat)
    assert point.opt_out_reason is None


async def test_an_unknown_or_malformed_code_links_nothing(app: App) -> None:
    ana = await _expert(app)
    await _code(app, ana)
    for guess in ("A" * 32, "", "not a code!", "x" * 65):
        assert (await _redeem(app, STRANGER_CHAT, guess)).outcome is LinkOutcome.UNKNOWN
    assert await _telegram_point(app, ana) is None


async def test_an_expired_code_links_nothing(app: App) -> None:
    ana = await _expert(app)
    code = await _code(app, ana, hours=1)
    app.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    result = await _redeem(app, ANA_CHAT, code.code)
    assert result == LinkResult(LinkOutcome.EXPIRED)
    assert await _telegram_point(app, ana) is None


async def test_a_used_code_cannot_link_a_second_chat(app: App) -> None:
    ana = await _expert(app)
    code = await _code(app, ana)
    await _redeem(app, ANA_CHAT, code.code)
    assert (await _redeem(app, STRANGER_CHAT, code.code)).outcome is LinkOutcome.USED
    point = await _telegram_point(app, ana)
    assert point is not None and point.value == ANA_CHAT


async def test_tapping_the_link_again_from_the_same_chat_still_says_linked(app: App) -> None:
    ana = await _expert(app)
    code = await _code(app, ana)
    await _redeem(app, ANA_CHAT, code.code)
    again = await _redeem(app, ANA_CHAT, code.code)
    assert again.outcome is LinkOutcome.LINKED and again.expert is not None
    async with app.sessions() as session:
        linked = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "telegram.linked")
        )
        assert len(list(linked)) == 1  # nothing changed the second time


async def test_a_new_code_withdraws_the_earlier_one(app: App) -> None:
    ana = await _expert(app)
    old = await _code(app, ana)
    new = await _code(app, ana)
    assert (await _redeem(app, STRANGER_CHAT, old.code)).outcome is LinkOutcome.UNKNOWN
    assert (await _redeem(app, ANA_CHAT, new.code)).outcome is LinkOutcome.LINKED


async def test_a_code_for_one_expert_never_moves_a_chat_linked_to_another(app: App) -> None:
    ana = await _expert(app)
    ben = await _expert(app, ref="B2", preferred_name="Ben", phone="07123 456790")
    await _redeem(app, BEN_CHAT, (await _code(app, ben)).code)
    anas_code = await _code(app, ana)
    assert (await _redeem(app, BEN_CHAT, anas_code.code)).outcome is LinkOutcome.CHAT_TAKEN
    assert await _telegram_point(app, ana) is None
    bens = await _telegram_point(app, ben)
    assert bens is not None and bens.value == BEN_CHAT
    # The code was not spent: Ana can still use it from her own chat.
    assert (await _redeem(app, ANA_CHAT, anas_code.code)).outcome is LinkOutcome.LINKED
    async with app.sessions() as session:
        refused = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "telegram.link_refused")
        )
    assert refused is not None and refused.entity_id == ana


async def test_five_refused_tries_in_a_day_stop_a_chat_even_with_a_good_code(app: App) -> None:
    ana = await _expert(app)
    code = await _code(app, ana)
    await _refused_tries(app, STRANGER_CHAT, 4, ago=timedelta(hours=2))
    await _refused_tries(app, STRANGER_CHAT, 1, ago=timedelta(hours=23))
    await _refused_tries(app, ANA_CHAT, 4, ago=timedelta(hours=1))  # not yet the limit
    result = await _redeem(app, STRANGER_CHAT, code.code)
    assert result == LinkResult(LinkOutcome.TOO_MANY_TRIES)
    assert await _telegram_point(app, ana) is None  # the code was not even looked up
    assert (await _redeem(app, ANA_CHAT, code.code)).outcome is LinkOutcome.LINKED


async def test_refused_tries_older_than_a_day_do_not_count(app: App) -> None:
    ana = await _expert(app)
    await _refused_tries(app, ANA_CHAT, 4, ago=timedelta(hours=3))
    await _refused_tries(app, ANA_CHAT, 3, ago=timedelta(hours=25))
    assert (await _redeem(app, ANA_CHAT, (await _code(app, ana)).code)).outcome is (
        LinkOutcome.LINKED
    )


async def test_no_code_is_made_for_someone_who_has_withdrawn(app: App) -> None:
    ana = await _expert(app)
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None
        expert.status = ExpertStatus.WITHDRAWN
    with pytest.raises(ExpertError, match="withdrawn"):
        await _code(app, ana)

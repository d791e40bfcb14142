"""Automatic answers meet the same gate as every other message: real HTTP into the running
service, as an expert texts and as staff then read the expert's page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.telegram_links import create_link
from bot.web.app import create_web_app
from store.models import Expert, Staff
from tests.builders import add_expert
from tests.live import PUBLIC, Live
from tests.staff_client import StaffClient, add_account

ANA = "+447123456789"  # the builders' expert, "07123 456789"
STRANGER = "+447700900999"
SERVICE_NAMES = ("Samaritans", "NHS 24", "Domestic Abuse", "Rape Crisis", "Breathing Space")


async def _ana(app: App, **overrides: Any) -> int:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(app, session, **overrides)
        return expert.id


async def _held_back(app: App, expert_id: int) -> str:
    """What the expert's page tells staff about messages the gate held back (the pages at
    the service's public https address, where its cookies are sent)."""
    transport = httpx.ASGITransport(app=create_web_app(app), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        sam = StaffClient(client)
        assert (await sam.sign_in("sam@example.org")).status_code == 303
        page = await sam.get(f"/experts/{expert_id}")
    assert page.status_code == 200
    return page.text.replace("&#39;", "'")


@pytest.mark.db_contract
async def test_a_number_whose_texts_were_never_agreed_gets_no_automatic_answer(
    live: Live,
) -> None:
    ana = await _ana(live.app, consent={"sms": {"allowed": False}})
    for words in ("Is there parking near the venue?", "call me", "help"):
        response = await live.text(ANA, words)
        assert response.status_code == 200
        assert "<Message>" not in response.text
    replies = await live.replies()
    assert len(replies) == 3 and all(r.auto_answer is None for r in replies)
    page = await _held_back(live.app, ana)
    assert "Held back by the safety checks" in page
    assert (
        "An automatic answer to their text by text message was not sent: nobody has confirmed "
        "with them that this way is safe." in page
    )


async def test_after_stop_the_acknowledgement_is_the_last_thing_that_number_hears(
    live: Live,
) -> None:
    ana = await _ana(live.app)
    stop = await live.text(ANA, "STOP")
    assert "won't get any more messages" in stop.text
    for words in ("Is there parking?", "HELP", "STOP", "call me"):
        later = await live.text(ANA, words)
        assert "<Message>" not in later.text, words
    assert "they asked us to stop this way (replied STOP)" in await _held_back(live.app, ana)
    # START is theirs to send: texts are back on, and that is said.
    assert "messages are back on" in (await live.text(ANA, "START")).text


async def test_a_worrying_text_on_a_discreet_number_gets_lines_without_service_names(
    live: Live,
) -> None:
    await _ana(live.app)  # discreet, and texts are not marked safe for details
    response = await live.text(ANA, "I can't cope any more")
    text = response.text
    assert "116 123" in text and "111" in text and "0800 027 1234" in text
    assert "free, 24 hours" in text and "999" in text
    assert [name for name in SERVICE_NAMES if name in text] == []


async def test_a_worrying_text_where_details_are_safe_names_the_services(live: Live) -> None:
    await _ana(live.app, consent={"sms": {"allowed": True, "details_safe": True}})
    response = await live.text(ANA, "I can't cope any more")
    assert "Samaritans: 116 123" in response.text
    assert "Domestic Abuse and Forced Marriage Helpline" in response.text


async def test_a_stranger_in_distress_gets_numbers_but_no_service_names(live: Live) -> None:
    await _ana(live.app, consent={"sms": {"allowed": True, "details_safe": True}})
    response = await live.text(STRANGER, "please help me he is back")
    assert "116 123" in response.text and "999" in response.text
    assert [name for name in SERVICE_NAMES if name in response.text] == []


async def test_the_free_text_line_names_the_link_worker_only_where_details_are_safe(
    live: Live,
) -> None:
    await _ana(live.app, consent={"sms": {"allowed": True, "details_safe": True}})
    response = await live.text(ANA, "Is there parking near the venue?")
    assert "read this myself. Sam" in response.text


async def test_a_linked_chat_nobody_agreed_to_gets_no_automatic_answer(live: Live) -> None:
    app = live.app
    ana = await _ana(app)
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        sam = await session.scalar(select(Staff).where(Staff.email == "sam@example.org"))
        assert expert is not None and sam is not None
        code = await create_link(
            session, expert, sam, cipher=app.cipher, now=app.clock.now(), hours=72
        )
    await live.chat(42, f"/start {code.code}")
    assert "this chat is now linked" in live.telegram.last_sent("42").text
    for words in ("Is there parking near the venue?", "call me"):
        assert (await live.chat(42, words)).status_code == 200
    assert len(live.telegram.received_by("42")) == 1  # only the word that the link worked
    assert "by Telegram was not sent: nobody has confirmed" in await _held_back(app, ana)

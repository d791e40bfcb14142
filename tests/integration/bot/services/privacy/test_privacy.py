"""The privacy service on its own: the retention rules, the words for audit actions, the
subject access document, and erasure's refusal without confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.privacy.audit_search import describe_action
from bot.services.privacy.erasure import erase_expert
from bot.services.privacy.retention import PrivacyError, check_retention, save_retention
from bot.services.privacy.subject_access import build_export, export_filename, render_export
from store.enums import Channel
from store.models import Expert, Message, Reply
from tests.builders import add_engagement, add_expert, outbox


def test_retention_needs_replies_kept_as_long_as_the_silence_check_looks_back() -> None:
    assert check_retention("90", "2190", silence_days=90) == (90, 2190)
    assert check_retention("14", "15", silence_days=14) == (14, 15)
    assert check_retention("1,000", "2,190", silence_days=90) == (1000, 2190)
    with pytest.raises(PrivacyError) as short:
        check_retention("60", "2190", silence_days=90)
    assert "at least 90 days" in short.value.errors["message_days"]
    with pytest.raises(PrivacyError) as tiny:
        check_retention("3", "2190", silence_days=7)
    assert tiny.value.errors["message_days"] == "Keep message texts and replies for at least 7 days"
    with pytest.raises(PrivacyError) as both:
        check_retention("-5", "1.5", silence_days=90)
    assert set(both.value.errors) == {"message_days", "record_days"}


def test_actions_read_as_plain_words() -> None:
    assert describe_action("expert.viewed") == "Their record was looked at"
    assert describe_action("staff.closed") == "A staff account was closed"
    assert describe_action("engagement.something_new") == "Engagement: something new"


async def test_saving_the_same_periods_again_changes_nothing(app: App) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        first = await save_retention(session, app.settings, "100", "2000", now=now, actor="a")
        again = await save_retention(session, app.settings, "100", "2000", now=now, actor="b")
        one = await save_retention(session, app.settings, "100", "2100", now=now, actor="c")
    assert first == ["message_retention_days", "record_retention_days"]
    assert again == [] and one == ["record_retention_days"]


async def test_the_document_keeps_their_words_safe_and_says_when_text_is_gone(app: App) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, ref="EX/7 b")
        await add_engagement(app, session, experts=[expert])
        session.add(
            Reply(
                expert_id=expert.id,
                channel=Channel.SMS,
                body="<b>hello</b>\nsecond line",
                received_at=app.clock.now(),
            )
        )
    first = (await outbox(app))[0]
    async with app.sessions.begin() as session:
        message = await session.get(Message, first.id)
        assert message is not None
        message.body = None  # purged
        loaded = await session.get(Expert, expert.id)
        assert loaded is not None
        record = await build_export(
            session, loaded, now=app.clock.now(), tz=app.settings.default_time_zone
        )
        html = render_export(record)
        name = export_filename(loaded, app.clock.now().date())
    assert "&lt;b&gt;hello&lt;/b&gt;<br>\nsecond line" in html
    assert "<b>hello" not in html
    assert "Information before an engagement" in html and "What it said" not in html
    assert name == "linkline-expert-EX-7-b-2026-01-12.html"


async def test_erasure_without_the_right_confirmation_deletes_nothing(app: App) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, ref="EX-09")
    for typed in ("", "EX-08", str(expert.id)):
        async with app.sessions.begin() as session:
            loaded = await session.get(Expert, expert.id)
            assert loaded is not None
            with pytest.raises(PrivacyError) as refused:
                await erase_expert(
                    session, loaded, confirmation=typed, now=app.clock.now(), actor="test"
                )
            assert "EX-09" in refused.value.errors["confirm"]
    async with app.sessions() as session:
        assert await session.scalar(select(func.count(Expert.id))) == 1

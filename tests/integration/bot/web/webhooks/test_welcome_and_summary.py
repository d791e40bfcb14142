"""A welcome when someone's first channel is confirmed, once in their life, and "how we'll
contact you" once their profile is confirmed and after each change: planned in the
outbox and sent by the real dispatcher through the gate (to the dry-run channels)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.consent import set_consent
from bot.services.experts.pastoral import set_contact_level
from bot.services.experts.profile import confirm_safe_contact, create_expert
from scheduling.clock import SimulatedClock
from store.enums import Channel, MessageStatus, PastoralLevel, Purpose, TaskKind
from store.models import Expert, Staff
from tests.builders import add_staff, all_tasks, expert_input, outbox

TEN_AM = datetime.fromisoformat("2026-01-12T10:00:00+00:00")


@pytest.fixture
def live(app: App, clock: SimulatedClock) -> App:
    """The app at 10am on a Monday, inside the default safe hours."""
    clock.set(TEN_AM)
    return app


def _sent(app: App) -> list[str]:
    """The words the dry-run channels wrote, oldest first."""
    files = sorted(app.settings.resolved_outbox_dir.rglob("*"), key=lambda p: p.stat().st_mtime)
    return [p.read_text() for p in files if p.is_file()]


async def _new(app: App, **overrides: object) -> int:
    """Someone new, added with their link worker as Linkline's own pages and CSV do."""
    async with app.sessions.begin() as session:
        await add_staff(session, now=app.clock.now())
        expert = await create_expert(
            session, app.cipher, expert_input(**overrides), actor="test", now=app.clock.now()
        )
        return expert.id


async def _sam(session: object) -> Staff:
    staff = await session.scalar(select(Staff))  # type: ignore[attr-defined]
    assert staff is not None
    return staff  # type: ignore[no-any-return]


async def test_a_new_expert_is_welcomed_once_by_their_link_worker(live: App) -> None:
    ana = await _new(live)
    await live.dispatcher().run_until_idle()
    [welcome] = await outbox(live, expert_id=ana, purpose=Purpose.WELCOME)
    assert welcome.status is MessageStatus.SENT
    text = _sent(live)[-1]
    assert "Welcome" in text and "Sam" in text
    assert all(word in text for word in ("LATER", "LESS", "MORE", "PAUSE", "STOP", "WHO"))
    # Another channel agreed later is no reason to welcome them again.
    async with live.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None
        await set_consent(
            session, expert, Channel.PHONE, allowed=True, details_safe=False,
            confirmed_by=await _sam(session), confirmed_on=date(2026, 1, 12),
            now=live.clock.now(), actor="test",
        )  # fmt: skip
    assert len(await outbox(live, expert_id=ana, purpose=Purpose.WELCOME)) == 1


async def test_a_welcome_nothing_can_carry_becomes_a_task_for_a_person(live: App) -> None:
    # Agreed by text, but the number has since been opted out.
    ana = await _new(live)
    async with live.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None
        await session.refresh(expert, ["contact_points"])
        for point in expert.contact_points:
            point.opted_out_at = live.clock.now()
    await live.dispatcher().run_until_idle()
    [welcome] = await outbox(live, expert_id=ana, purpose=Purpose.WELCOME)
    assert welcome.status is MessageStatus.HANDED_TO_PERSON
    assert TaskKind.DELIVERY_PROBLEM in [t.kind for t in await all_tasks(live)]


async def test_how_we_contact_them_goes_once_confirmed_and_again_after_a_change(
    live: App,
) -> None:
    ana = await _new(live, consent={"sms": {"allowed": True, "details_safe": True}})
    assert await outbox(live, expert_id=ana, purpose=Purpose.AGREEMENT) == []
    async with live.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None
        await confirm_safe_contact(
            session, expert, await _sam(session), now=live.clock.now(), actor="test"
        )
    await live.dispatcher().run_until_idle()
    [summary] = await outbox(live, expert_id=ana, purpose=Purpose.AGREEMENT)
    assert summary.status is MessageStatus.SENT
    # The welcome went in the same batch, so the files' order says nothing: find the summary.
    text = next(words for words in _sent(live) if "How we'll contact you" in words)
    assert "How we'll contact you: by text message" in text
    assert "Monday to Sunday, 9am to 8pm" in text or "9am to 8pm" in text
    # Two changes in a row while the first summary waits: only the newest goes.
    live.clock.set(datetime.fromisoformat("2026-01-12T21:00:00+00:00"))  # after their hours
    for level in (PastoralLevel.MONTHLY, PastoralLevel.FORTNIGHTLY):
        async with live.sessions.begin() as session:
            expert = await session.get(Expert, ana)
            assert expert is not None
            await set_contact_level(
                session, expert, level, min_days=7, now=live.clock.now(), actor="test"
            )
        live.clock.set(live.clock.now().replace(minute=5))
    summaries = await outbox(live, expert_id=ana, purpose=Purpose.AGREEMENT)
    assert [s.status for s in summaries] == [
        MessageStatus.SENT,
        MessageStatus.CANCELLED,
        MessageStatus.PENDING,
    ]


async def test_a_summary_never_goes_where_details_are_not_safe(live: App) -> None:
    ana = await _new(live)  # texts agreed, but not for details
    async with live.sessions.begin() as session:
        expert = await session.get(Expert, ana)
        assert expert is not None
        await confirm_safe_contact(
            session, expert, await _sam(session), now=live.clock.now(), actor="test"
        )
    await live.dispatcher().run_until_idle()
    [summary] = await outbox(live, expert_id=ana, purpose=Purpose.AGREEMENT)
    assert summary.status is MessageStatus.HANDED_TO_PERSON
    assert all("How we'll contact you" not in words for words in _sent(live))

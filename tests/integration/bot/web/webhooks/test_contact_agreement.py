"""The expert's own say over contact, as they text it: LATER, LESS, MORE, WHO, and their
private "not safe now" word. Real HTTP into the running service, Twilio's SDK answering."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.agreement import set_safe_word
from bot.services.experts.profile import ExpertError
from bot.services.inbox.replies import acknowledge
from scheduling.rules.distress import DistressWords
from store.enums import MessageStatus, PastoralLevel, Purpose, TaskKind
from store.models import Expert, Message, Reply, StaffAlert
from tests.builders import add_expert, all_tasks, outbox
from tests.live import Live

ANA = "+447123456789"  # the builders' expert


async def _ana(app: App, **overrides: object) -> int:
    async with app.sessions.begin() as session:
        return (await add_expert(app, session, **overrides)).id


def _message(expert_id: int, purpose: Purpose, due: datetime, key: str, **extra: object) -> Message:
    return Message(
        expert_id=expert_id,
        purpose=purpose,
        idempotency_key=key,
        due_at=due,
        next_attempt_at=due,
        status=MessageStatus.PENDING,
        created_at=due,
        updated_at=due,
        **extra,
    )


async def _expert(app: App, expert_id: int) -> Expert:
    async with app.sessions() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        return expert


async def test_later_moves_todays_hello_to_their_next_safe_window_but_not_the_news(
    live: Live,
) -> None:
    ana = await _ana(live.app)
    live.clock.set(datetime.fromisoformat("2026-01-12T10:00:00+00:00"))  # Monday, in their hours
    now = live.clock.now()
    async with live.app.sessions.begin() as session:
        session.add(_message(ana, Purpose.PASTORAL, now + timedelta(hours=2), "hello"))
        session.add(_message(ana, Purpose.CANCELLATION, now + timedelta(hours=2), "news"))
        # A hello that would be pointless by tomorrow morning is not sent at all.
        late = now + timedelta(hours=6)
        session.add(_message(ana, Purpose.PASTORAL, late, "tonight", not_after=late))
        session.add(_message(ana, Purpose.PASTORAL, now + timedelta(days=3), "thursday"))
    response = await live.text(ANA, "later please")
    assert "I'll leave anything else until Tuesday 13 January at 9am" in response.text
    assert "Sam" in response.text
    by_key = {m.idempotency_key: m for m in await outbox(live.app, expert_id=ana)}
    tuesday_9am = datetime.fromisoformat("2026-01-13T09:00:00+00:00")
    assert by_key["hello"].next_attempt_at == tuesday_9am
    assert by_key["news"].next_attempt_at == now + timedelta(hours=2)  # news still goes today
    assert by_key["tonight"].status is MessageStatus.SUPPRESSED
    assert by_key["thursday"].next_attempt_at == now + timedelta(days=3)  # not today's
    [told] = [t for t in await all_tasks(live.app) if t.kind is TaskKind.CONTACT_CHANGED]
    assert "replied LATER: 1 message(s) moved to Tuesday 13 January at 9am" in (told.details or "")
    assert "Keeping in touch" in (told.details or "")  # the one that could not wait is named


async def test_later_with_nothing_due_says_so_and_changes_nothing(live: Live) -> None:
    ana = await _ana(live.app)
    response = await live.text(ANA, "LATER")
    assert "nothing more from me today" in response.text
    assert await outbox(live.app, expert_id=ana) == []


async def test_less_and_more_step_the_keeping_in_touch_level_and_the_worker_hears(
    live: Live,
) -> None:
    ana = await _ana(live.app, pastoral_level="monthly")
    assert "from now on" in (await live.text(ANA, "less")).text
    assert (await _expert(live.app, ana)).pastoral_level is PastoralLevel.OFF
    # Already the least: nothing changes, and they hear how to change it back.
    assert "Reply MORE" in (await live.text(ANA, "LESS")).text
    assert (await _expert(live.app, ana)).pastoral_level is PastoralLevel.OFF
    for expected in (PastoralLevel.MONTHLY, PastoralLevel.FORTNIGHTLY, PastoralLevel.WEEKLY):
        await live.text(ANA, "more please")
        assert (await _expert(live.app, ana)).pastoral_level is expected
    # Weekly is the most the organisation allows (7 days): MORE stays there.
    top = await live.text(ANA, "MORE")
    assert "as often as we can" in top.text
    assert (await _expert(live.app, ana)).pastoral_level is PastoralLevel.WEEKLY
    told = [t for t in await all_tasks(live.app) if t.kind is TaskKind.CONTACT_CHANGED]
    assert len(told) == 6
    assert "replied LESS: keeping in touch is now only when there is work for them" in (
        told[0].details or ""
    )


async def test_who_names_their_link_worker_and_how_to_reach_them_and_nothing_more(
    live: Live,
) -> None:
    await _ana(live.app)
    response = await live.text(ANA, "who is this?")
    assert "It's Sam, your contact here" in response.text
    assert "reply CALL" in response.text
    assert "Taylor" not in response.text  # a first name only


async def _with_word(app: App, expert_id: int, word: str) -> None:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        await set_safe_word(
            session,
            app.cipher,
            expert,
            word,
            DistressWords.load(),
            now=app.clock.now(),
            actor="test",
        )


@pytest.mark.db_contract
async def test_their_not_safe_word_stops_everything_says_nothing_and_alerts_a_person(
    live: Live,
) -> None:
    ana = await _ana(live.app)
    await _with_word(live.app, ana, "Pineapple")
    live.clock.set(datetime.fromisoformat("2026-01-12T10:00:00+00:00"))
    async with live.app.sessions.begin() as session:
        hello_at = live.clock.now() + timedelta(hours=1)
        session.add(_message(ana, Purpose.PASTORAL, hello_at, "hello"))
    response = await live.text(ANA, "pineapple!")
    assert response.status_code == 200
    assert "<Message>" not in response.text  # nothing on the screen someone else may see
    expert = await _expert(live.app, ana)
    assert expert.held_since is not None
    [task] = [t for t in await all_tasks(live.app) if t.kind is TaskKind.NOT_SAFE]
    assert task.urgent and "Do not text, email or call them back" in (task.details or "")
    async with live.app.sessions() as session:
        alerts = list(await session.scalars(select(StaffAlert)))
    assert len(alerts) == 1
    [reply] = await live.replies()
    assert reply.intent == "not_safe" and reply.urgent
    # The hello waits; nothing goes while the hold is on.
    sent_before = len(live.twilio.ledger)
    live.clock.set(hello_at)
    await live.app.dispatcher().run_until_idle()
    assert len(live.twilio.ledger) == sent_before
    [hello] = await outbox(live.app, idempotency_key="hello")
    assert hello.status is MessageStatus.PENDING
    # A person who knows they are safe lifts the hold by acknowledging it.
    async with live.app.sessions.begin() as session:
        seen = await session.get(Reply, reply.id)
        assert seen is not None
        assert await acknowledge(session, seen, None, now=live.clock.now())
    assert (await _expert(live.app, ana)).held_since is None


async def test_the_word_inside_a_sentence_or_someone_elses_word_is_an_ordinary_reply(
    live: Live,
) -> None:
    ana = await _ana(live.app)
    await _ana(live.app, preferred_name="Ben", phone="07123 456780")
    await _with_word(live.app, ana, "pineapple")
    await live.text("+447123456780", "pineapple")  # Ben chose no word
    await live.text(ANA, "I had pineapple for lunch")
    assert [r.intent for r in await live.replies()] == ["other", "other"]
    assert (await _expert(live.app, ana)).held_since is None


@pytest.mark.parametrize(
    ("word", "why"),
    [
        ("hello", "too common"),
        ("Later", "too common"),
        ("stop", "too common"),
        ("unpause", "already means something"),
        ("cant cope", "already means something"),
        ("pine4pple", "letters only"),
        ("  ", "Enter a word"),
        ("ab", "3 to 40 letters"),
        ("x" * 41, "3 to 40 letters"),
        ("one two three four", "up to three words"),
    ],
)
async def test_a_word_that_could_fire_by_chance_is_refused_and_nothing_is_kept(
    app: App, word: str, why: str
) -> None:
    ana = await _ana(app)
    with pytest.raises(ExpertError) as refused:
        await _with_word(app, ana, word)
    assert refused.value.field == "safe_word" and why in refused.value.plain
    assert (await _expert(app, ana)).safe_word_hash is None

"""A worrying reply cannot be missed: a red banner on Home for the link worker (and their
cover), the safe way to reach the person on the reply's page, and one act that records
what was done, marks the reply read (lifting the hold) and closes the urgent task."""

from __future__ import annotations

from datetime import date, timedelta

from bot.bootstrap import App
from bot.services.staff.accounts import find_staff, set_cover
from store.enums import TaskKind, TaskStatus
from store.models import Expert, Reply
from tests.builders import add_expert, all_tasks
from tests.integration.bot.web.admin.test_replies import team, text_in
from tests.staff_client import signed_in

WORRYING = "I can't cope any more"


async def test_home_shows_a_red_banner_naming_who_wrote_and_when(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, WORRYING)
    app.clock.advance(timedelta(minutes=12))  # type: ignore[attr-defined]
    async with signed_in(app, "sam@example.org") as sam:
        home = (await sam.get("/")).text
    banner = home.split('id="worrying"')[1].split("</div>\n</div>")[0]
    assert "govuk-error-summary" in home.split('id="worrying"')[0][-80:]
    assert f'href="/replies/{reply_id}"' in banner
    assert "Ana (EX-1) wrote 12 minutes ago" in banner
    assert WORRYING.split()[2] not in banner  # their words stay on the reply's own page
    async with signed_in(app, "jo@example.org") as jo:
        assert 'id="worrying"' not in (await jo.get("/")).text  # not Jo's expert


async def test_the_cover_sees_the_banner_while_the_link_worker_is_away(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, WORRYING)
    async with app.sessions.begin() as session:
        sam, jo = (
            await find_staff(session, "sam@example.org"),
            await find_staff(session, "jo@example.org"),
        )
        assert sam is not None and jo is not None
        await set_cover(
            session, sam, jo, date(2026, 1, 12), date(2026, 1, 16), now=app.clock.now(), actor="t"
        )
    async with signed_in(app, "jo@example.org") as jo_client:
        home = (await jo_client.get("/")).text
    assert f'href="/replies/{reply_id}"' in home.split('id="worrying"')[1]


async def test_the_reply_page_shows_the_safe_way_to_reach_them(app: App) -> None:
    async with app.sessions.begin() as session:
        await team(app)
        await add_expert(
            app,
            session,
            preferred_name="Kenny",
            ref="EX-2",
            phone="07123 456700",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
            windows=[{"days": "sat-sun", "hours": "10:00-22:00"}],
        )
    ana_reply = await text_in(app, WORRYING)
    kenny_reply = await text_in(app, WORRYING, sender="+447123456700")
    async with signed_in(app, "sam@example.org") as sam:
        ana = (await sam.get(f"/replies/{ana_reply}")).text
        kenny = (await sam.get(f"/replies/{kenny_reply}")).text
    reach = ana.split('id="reach"')[1].split("<h2")[0]
    assert "Phone calls are not agreed as safe for them" in reach
    assert "Text message</span> (the way they prefer)" in reach
    assert "the next safe time is Monday 12 January at 9am" in reach
    reach = kenny.split('id="reach"')[1].split("<h2")[0]
    assert 'href="tel:+447123456700"' in reach and "07123 456700" in reach
    assert "Saturday and Sunday" in reach
    assert "the next safe time is Saturday 17 January at 10am" in reach
    assert "on hold" in reach


async def test_one_act_records_what_was_done_reads_the_reply_and_closes_the_task(
    app: App,
) -> None:
    expert = await team(app)
    reply_id = await text_in(app, WORRYING)
    async with signed_in(app, "sam@example.org") as sam:
        refused = await sam.post(f"/replies/{reply_id}/done", {"note": "  "})
        assert refused.status_code == 400
        assert "Say what you did" in refused.text and 'href="#note"' in refused.text
        assert (await _reply(app, reply_id)).acknowledged_at is None

        done = await sam.post(
            f"/replies/{reply_id}/done", {"note": "Phoned at 9am, she is with her sister"}
        )
        assert (done.status_code, done.headers["location"]) == (303, "/replies")
        inbox = (await sam.get("/replies")).text
        assert "Its task is closed" in inbox and "can go again" in inbox
        assert 'id="worrying"' not in (await sam.get("/")).text
    reply = await _reply(app, reply_id)
    assert reply.acknowledged_at is not None
    task = next(t for t in await all_tasks(app) if t.kind is TaskKind.URGENT_REPLY)
    assert task.status is TaskStatus.DONE
    assert task.outcome == "Phoned at 9am, she is with her sister"
    async with app.sessions() as session:
        held = await session.get(Expert, expert.id)
    assert held is not None and held.held_since is None


async def test_too_long_a_note_is_refused_and_nothing_changes(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, WORRYING)
    async with signed_in(app, "sam@example.org") as sam:
        refused = await sam.post(f"/replies/{reply_id}/done", {"note": "x" * 301})
        assert refused.status_code == 400 and "300 characters or fewer" in refused.text
    assert (await _reply(app, reply_id)).acknowledged_at is None
    task = next(t for t in await all_tasks(app) if t.kind is TaskKind.URGENT_REPLY)
    assert task.status is TaskStatus.OPEN


async def test_someone_elses_reply_cannot_be_settled(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, WORRYING)
    async with signed_in(app, "jo@example.org") as jo:
        assert (await jo.post(f"/replies/{reply_id}/done", {"note": "x"})).status_code == 404
    assert (await _reply(app, reply_id)).acknowledged_at is None


async def _reply(app: App, reply_id: int) -> Reply:
    async with app.sessions() as session:
        reply = await session.get(Reply, reply_id)
    assert reply is not None
    return reply

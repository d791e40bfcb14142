"""Privacy pages: how long records are kept, a copy of everything held about an expert,
and erasing an expert, with who may do each."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from store import audit
from store.enums import Channel, InvitationAnswer, Role
from store.models import AuditEvent, Base, Engagement, Expert, OrgSetting, Reply
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"
WORKER = "sam@example.org"
OTHER = "kim@example.org"


async def _team(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session, name="Sam Taylor", email=WORKER)
        await add_account(app, session, name="Kim Lee", email=OTHER)


async def _full_expert(app: App) -> Expert:
    """Sam's expert with a bit of everything: windows, an invitation with support needs,
    a sent message, a reply and a task."""
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            ref="EX-01",
            preferred_name="Zephyrine",
            windows=[{"days": "mon-fri", "hours": "10:00-16:00"}],
            access_needs="large_print",
        )
        engagement = await add_engagement(app, session, experts=[expert])
        await engagement_service.record_answer(
            session,
            engagement,
            expert.id,
            InvitationAnswer.YES,
            app.offsets,
            support_needs="A quiet room to rest in",
            now=app.clock.now(),
            actor="test",
        )
    first = (await outbox(app, expert_id=expert.id))[0]
    app.clock.set(first.due_at)  # type: ignore[attr-defined]
    await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        session.add(
            Reply(
                expert_id=expert.id,
                channel=Channel.SMS,
                body="Looking forward to it",
                received_at=app.clock.now(),
            )
        )
    return expert


async def _settings(app: App) -> list[OrgSetting]:
    async with app.sessions() as session:
        return list(await session.scalars(select(OrgSetting)))


# --- retention -------------------------------------------------------------------------


async def test_link_workers_cannot_see_or_change_retention(app: App) -> None:
    await _team(app)
    async with signed_in(app, WORKER) as client:
        assert (await client.get("/admin/privacy")).status_code == 404
        posted = await client.post(
            "/admin/privacy", {"message_days": "120", "record_days": "400", "leaver_days": "365"}
        )
        assert posted.status_code == 404
    assert await _settings(app) == []


async def test_retention_starts_from_the_defaults_and_remembers_who_changed_it(app: App) -> None:
    await _team(app)
    async with signed_in(app, ADMIN) as client:
        page = await client.get("/admin/privacy")
        assert page.status_code == 200
        assert 'name="message_days" type="text" value="90"' in page.text
        assert 'name="record_days" type="text" value="2190"' in page.text
        assert "Not changed here yet" in page.text
        saved = await client.post(
            "/admin/privacy", {"message_days": "120", "record_days": "2190", "leaver_days": "365"}
        )
        assert saved.status_code == 303
        after = await client.get("/admin/privacy")
    assert "Saved how long message texts and replies are kept" in after.text
    assert 'name="message_days" type="text" value="120"' in after.text
    assert "Last changed on 12 Jan 2026, 08:00 by alex@example.org" in after.text
    rows = {row.key: row for row in await _settings(app)}
    assert rows["message_retention_days"].value == {"days": 120}
    assert rows["message_retention_days"].updated_by == ADMIN
    assert rows["record_retention_days"].value == {"days": 2190}


@pytest.mark.parametrize(
    ("message_days", "record_days", "field", "message"),
    [
        ("", "2190", "message_days", "Enter how many days message texts"),
        ("ninety", "2190", "message_days", "Enter a whole number of days"),
        ("30", "2190", "message_days", "at least 90 days. Linkline looks back 90 days"),
        ("4000", "5000", "message_days", "at most 3650 days"),
        ("120", "", "record_days", "Enter how many days tasks and the audit log"),
        ("120", "100", "record_days", "longer than message texts (120 days)"),
        ("120", "120", "record_days", "longer than message texts"),
        ("120", "99999", "record_days", "at most 7300 days"),
    ],
)
async def test_bad_retention_is_explained_and_nothing_is_saved(
    app: App, message_days: str, record_days: str, field: str, message: str
) -> None:
    await _team(app)
    async with signed_in(app, ADMIN) as client:
        page = await client.post(
            "/admin/privacy",
            {"message_days": message_days, "record_days": record_days, "leaver_days": "365"},
        )
    assert page.status_code == 400
    assert f'id="{field}-error"' in page.text and message in page.text
    assert await _settings(app) == []


# --- subject access --------------------------------------------------------------------


async def test_their_link_worker_downloads_everything_held_about_them(app: App) -> None:
    await _team(app)
    expert = await _full_expert(app)
    async with signed_in(app, WORKER) as client:
        download = await client.get(f"/experts/{expert.id}/export")
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "EX-01" in disposition
    assert "Zephyrine" not in disposition
    assert download.headers["content-type"].startswith("text/html")
    doc = download.text
    for expected in (
        "Everything Linkline holds about Zephyrine",
        "+447123456789",  # contact details, decrypted
        "Sam Taylor",  # link worker, and who confirmed consent
        "Agreed with you on 5 January 2026",
        "Monday to Friday, 10am to 4pm",
        "Large print",
        "First contact workshop",
        "A quiet room to rest in",
        "Information before an engagement",
        "What it said:",
        "Looking forward to it",
        "Added to Linkline",
    ):
        assert expected in doc, expected
    assert "<script" not in doc and "<style" not in doc
    async with app.sessions() as session:
        exported = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "expert.exported")
        )
    assert exported is not None and exported.entity_id == expert.id
    assert exported.actor == WORKER and exported.data == {}


async def test_nobody_downloads_an_expert_they_cannot_see(app: App) -> None:
    await _team(app)
    expert = await _full_expert(app)
    async with signed_in(app, OTHER) as client:
        assert (await client.get(f"/experts/{expert.id}/export")).status_code == 404
        assert (await client.get("/experts/9999/export")).status_code == 404
    async with signed_in(app, ADMIN) as client:
        assert (await client.get(f"/experts/{expert.id}/export")).status_code == 200
    async with app.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(AuditEvent.action == "expert.exported")
        )
    assert count == 1


# --- erasure ---------------------------------------------------------------------------


async def _rows_about(app: App, expert_id: int) -> dict[str, int]:
    """Every row in any table with an expert_id column that still points at them."""
    found: dict[str, int] = {}
    async with app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "expert_id" in table.c:
                count = (
                    await conn.execute(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.expert_id == expert_id)
                    )
                ).scalar_one()
                if count:
                    found[table.name] = count
        expert_rows = (
            await conn.execute(text("SELECT count(*) FROM expert WHERE id = :i"), {"i": expert_id})
        ).scalar_one()
        if expert_rows:
            found["expert"] = expert_rows
    return found


async def test_link_workers_cannot_erase_anyone(app: App) -> None:
    await _team(app)
    expert = await _full_expert(app)
    async with signed_in(app, WORKER) as client:
        assert (await client.get(f"/experts/{expert.id}/erase")).status_code == 404
        posted = await client.post(f"/experts/{expert.id}/erase", {"confirm": "EX-01"})
        assert posted.status_code == 404
    assert "expert" in await _rows_about(app, expert.id)


@pytest.mark.parametrize(
    ("typed", "message"), [("", "Type EX-01 to confirm"), ("EX-02", "That does not match")]
)
async def test_erasing_needs_their_reference_typed(app: App, typed: str, message: str) -> None:
    await _team(app)
    expert = await _full_expert(app)
    before = await _rows_about(app, expert.id)
    async with signed_in(app, ADMIN) as client:
        page = await client.post(f"/experts/{expert.id}/erase", {"confirm": typed})
    assert page.status_code == 400
    assert 'id="confirm-error"' in page.text and message in page.text
    assert await _rows_about(app, expert.id) == before
    async with app.sessions() as session:
        assert (await outbox(app, expert_id=expert.id))[-1].status.value == "pending"
        assert (
            await session.scalar(select(AuditEvent).where(AuditEvent.action == "expert.erased"))
            is None
        )


async def test_erasing_deletes_everything_about_them_and_keeps_a_bare_note(app: App) -> None:
    await _team(app)
    expert = await _full_expert(app)
    async with app.sessions.begin() as session:
        # Should never happen, but if it had: erasing cleans it out of the audit trail.
        audit.record(
            session,
            actor="test",
            action="expert.viewed",
            entity="expert",
            entity_id=expert.id,
            at=app.clock.now(),
            phone="07123 456789",
            fields=["phone"],
        )
    before = await _rows_about(app, expert.id)
    assert {"contact_point", "channel_consent", "contact_window", "invitation", "message"} <= set(
        before
    )
    async with signed_in(app, ADMIN) as client:
        page = await client.get(f"/experts/{expert.id}/erase")
        assert page.status_code == 200
        assert "Erase everything about Zephyrine" in page.text
        assert "To confirm, type EX-01" in page.text
        assert "will be cancelled first" in page.text
        done = await client.post(f"/experts/{expert.id}/erase", {"confirm": " ex-01 "})
        assert (done.status_code, done.headers["location"]) == (303, "/experts")
        assert (await client.get(f"/experts/{expert.id}/export")).status_code == 404
    assert await _rows_about(app, expert.id) == {}
    async with app.sessions() as session:
        assert await session.scalar(select(func.count(Engagement.id))) == 1  # not theirs
        erased = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "expert.erased")
        )
        assert erased is not None
        assert (erased.entity, erased.entity_id, erased.actor) == ("expert", expert.id, ADMIN)
        assert erased.data["contact_points"] >= 1 and erased.data["audit_events_cleaned"] == 1
        events = list(await session.scalars(select(AuditEvent)))
    dump = repr([(e.actor, e.action, e.data) for e in events])
    assert "07123" not in dump and "Zephyrine" not in dump and "quiet room" not in dump
    viewed = [e for e in events if e.action == "expert.viewed" and "fields" in e.data]
    assert viewed and viewed[0].data == {"fields": ["phone"]}


async def test_an_expert_without_a_reference_is_confirmed_by_number(app: App) -> None:
    await _team(app)
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
    async with signed_in(app, ADMIN) as client:
        page = await client.get(f"/experts/{expert.id}/erase")
        assert f"To confirm, type {expert.id}" in page.text
        done = await client.post(f"/experts/{expert.id}/erase", {"confirm": str(expert.id)})
    assert done.status_code == 303
    assert await _rows_about(app, expert.id) == {}

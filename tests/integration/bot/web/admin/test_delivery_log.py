"""The delivery log: every message newest first, filters, a message's own page, and CSV.
Administrators only, and the words of a message only for the expert's own link worker."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from markupsafe import escape
from sqlalchemy import select

from bot.bootstrap import App
from store.enums import MessageStatus, Purpose, Role
from store.models import AuditEvent, Expert, Message, Staff
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"
HIDDEN = "Hidden: only their link worker sees message text"


async def _two_experts(app: App) -> dict[str, int]:
    """Ana (EX-1, Sam's) and Ben (EX-2, Kim's), both invited to one engagement; Ana's
    pre-brief is sent on the dry-run text channel."""
    async with app.sessions.begin() as session:
        admin = await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        sam = await add_account(app, session)
        kim = await add_account(app, session, name="Kim Lee", email="kim@example.org")
        ana = await add_expert(app, session, ref="EX-1")
        ben = await add_expert(
            app, session, ref="EX-2", preferred_name="Ben", link_worker="kim@example.org"
        )
        await add_engagement(app, session, experts=[ana])
        ids = {"admin": admin.id, "sam": sam.id, "kim": kim.id, "ana": ana.id, "ben": ben.id}
    first = (await outbox(app, expert_id=ids["ana"]))[0]
    app.clock.set(first.due_at)  # type: ignore[attr-defined]
    assert await app.dispatcher().run_until_idle() == 1
    async with app.sessions.begin() as session:
        # Ben's one message, due later than any of Ana's and never sent.
        session.add(_message(ids["ben"], "ben:pastoral", app.clock.now() + timedelta(days=30)))
    return ids


def _message(expert_id: int, key: str, due: datetime, **extra: object) -> Message:
    return Message(
        expert_id=expert_id,
        purpose=extra.pop("purpose", Purpose.PASTORAL),
        idempotency_key=key,
        due_at=due,
        next_attempt_at=due,
        status=extra.pop("status", MessageStatus.PENDING),
        created_at=due,
        updated_at=due,
        **extra,
    )


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/admin/delivery/(\d+)">', html)]


async def test_the_log_lists_every_message_newest_first_with_what_happened(app: App) -> None:
    await _two_experts(app)
    messages = {m.purpose: m for m in await outbox(app)}
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get("/admin/delivery")
    assert page.status_code == 200
    ids = _row_ids(page.text)
    assert len(ids) == 5
    dues = {m.id: m.due_at for m in await outbox(app)}
    assert [dues[i] for i in ids] == sorted(dues.values(), reverse=True)
    sent = messages[Purpose.PRE_BRIEF]
    assert ids[-1] == sent.id
    row = page.text.split(f'href="/admin/delivery/{sent.id}"')[1].split("</tr>")[0]
    for text in (
        'Due <span class="app-when">15 Jan 2026, 10:00',
        'Sent <span class="app-when">15 Jan 2026, 10:00',
        "EX-1",
        "Sam Taylor",
        "Pre-brief",
        "Text message (SMS)",
        "Sent\n</strong>",  # the tag says it in words
        "text message: preferred channel",  # the channel in words, never its stored value
        "written",  # the dry-run provider's status
    ):
        assert text in row, text
    assert "sms:" not in row
    assert "Ana" not in page.text and "07123" not in page.text


async def test_each_filter_narrows_the_log(app: App) -> None:
    ids = await _two_experts(app)
    by_purpose = {m.purpose: m.id for m in await outbox(app, expert_id=ids["ana"])}
    ben_message = (await outbox(app, expert_id=ids["ben"]))[0].id
    async with signed_in(app, ADMIN) as admin:

        async def rows(query: str) -> list[int]:
            page = await admin.get(f"/admin/delivery?{query}")
            assert page.status_code == 200, page.text
            return _row_ids(page.text)

        assert await rows("status=sent") == [by_purpose[Purpose.PRE_BRIEF]]
        assert await rows("channel=sms") == [by_purpose[Purpose.PRE_BRIEF]]
        assert await rows("channel=email") == []
        assert await rows(f"staff={ids['kim']}") == [ben_message]
        assert await rows("expert=EX-2") == [ben_message]
        assert len(await rows(f"staff={ids['sam']}")) == 4
        # Dates are London days, both ends included: the pre-brief was due on 15 January.
        day = "from-day=15&from-month=1&from-year=2026&to-day=15&to-month=1&to-year=2026"
        assert await rows(day) == [by_purpose[Purpose.PRE_BRIEF]]
        assert await rows("from-day=16&from-month=1&from-year=2026&expert=EX-1") == [
            by_purpose[p] for p in (Purpose.DE_BRIEF, Purpose.CHECK_IN, Purpose.REMINDER)
        ]
        assert await rows("status=sent&expert=EX-2") == []
        assert await rows("from=2026-01-15&to=2026-01-15") == [by_purpose[Purpose.PRE_BRIEF]]
        # The chosen values stay in the form.
        page = await admin.get("/admin/delivery?status=sent&expert=EX-1")
        assert '<option value="sent" selected>' in page.text
        assert 'value="EX-1"' in page.text


async def test_bad_filters_answer_400_with_each_message_by_its_field(app: App) -> None:
    await _two_experts(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get(
            "/admin/delivery?status=lost&channel=pigeon&staff=999&expert=NOBODY"
            "&from-day=45&from-month=13&from-year=2026&to-day=1&to-month=&to-year=2026&page=x"
        )
        assert page.status_code == 400
        for field, text in (
            ("status", "Choose a status from the list"),
            ("channel", "Choose a channel from the list"),
            ("staff", "Choose a link worker from the list"),
            ("expert", "No expert has this reference"),
            ("from-group", "Date from must be a real date"),
            ("to-group", "Date to must include a day, month and year"),
        ):
            assert f'href="#{field.removesuffix("-group")}">{text}' in page.text, field
            assert f'id="{field}-error"' in page.text, field
        assert "The page number must be a whole number" in page.text
        assert "Message 1" not in page.text  # no results under a refused filter
        backwards = await admin.get(
            "/admin/delivery?from-day=20&from-month=1&from-year=2026"
            "&to-day=10&to-month=1&to-year=2026"
        )
        assert backwards.status_code == 400
        assert "Date to must be the same as or after date from" in backwards.text
        linked = await admin.get("/admin/delivery?from=2026-13-45")
        assert linked.status_code == 400 and "Date from must be a real date" in linked.text
        csv_page = await admin.get("/admin/delivery.csv?status=lost")
        assert csv_page.status_code == 400 and "Choose a status from the list" in csv_page.text


async def test_fifty_messages_a_page_with_pages_to_move_between(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        ana = await add_expert(app, session, ref="EX-1")
        start = datetime(2026, 2, 1, 10, tzinfo=UTC)
        for n in range(120):
            session.add(_message(ana.id, f"bulk{n}", start + timedelta(hours=n)))
    async with signed_in(app, ADMIN) as admin:
        first = await admin.get("/admin/delivery")
        assert len(_row_ids(first.text)) == 50
        assert "120 messages, page 1 of 3" in first.text
        assert 'href="/admin/delivery?page=2"' in first.text and 'rel="next"' in first.text
        last = await admin.get("/admin/delivery?page=3&expert=EX-1")
        assert len(_row_ids(last.text)) == 20 and 'rel="prev"' in last.text
        assert 'href="/admin/delivery?expert=EX-1&amp;page=2"' in last.text
        assert set(_row_ids(first.text)).isdisjoint(_row_ids(last.text))


async def test_a_message_page_lists_every_try_and_hides_the_words_from_other_admins(
    app: App,
) -> None:
    ids = await _two_experts(app)
    sent = (await outbox(app, status=MessageStatus.SENT))[0]
    assert sent.body
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get(f"/admin/delivery/{sent.id}")
    assert page.status_code == 200
    words = str(escape(sent.body.splitlines()[0]))
    assert HIDDEN in page.text and words not in page.text
    assert "Every try to send message" in page.text
    assert "Accepted by the provider" in page.text and sent.provider_id in page.text
    async with app.sessions() as session:
        viewed = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "message.viewed")
        )
    assert viewed is not None and (viewed.actor, viewed.entity_id) == (ADMIN, sent.id)

    # An administrator who is also Ana's link worker reads the words.
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Pat Both", email="pat@example.org", role=Role.ADMIN)
        expert = await session.get(Expert, ids["ana"])
        assert expert is not None
        expert.link_worker_id = (
            await session.scalar(select(Staff.id).where(Staff.email == "pat@example.org"))
        ) or 0
    async with signed_in(app, "pat@example.org") as pat:
        own = await pat.get(f"/admin/delivery/{sent.id}")
    assert HIDDEN not in own.text and words in own.text


async def test_the_csv_has_the_filtered_rows_no_contact_details_and_guarded_cells(
    app: App,
) -> None:
    ids = await _two_experts(app)
    sent = (await outbox(app, status=MessageStatus.SENT))[0]
    async with app.sessions.begin() as session:
        message = await session.get(Message, sent.id)
        assert message is not None
        message.status_reason = '=HYPERLINK("http://evil.example")'
    async with signed_in(app, ADMIN) as admin:
        response = await admin.get("/admin/delivery.csv?expert=EX-1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="delivery-log-2026-01-15.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4 and {r["expert ref"] for r in rows} == {"EX-1"}
    row = next(r for r in rows if r["message"] == str(sent.id))
    assert row["status"] == "Sent" and row["channel"] == "Text message (SMS)"
    assert row["why"] == '\'=HYPERLINK("http://evil.example")'
    assert all(r["text"] == "" for r in rows)  # Alex is not Ana's link worker
    assert "07123" not in response.text and "Ana" not in response.text
    async with app.sessions() as session:
        exported = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "delivery_log.exported")
        )
    assert exported is not None and exported.data == {"count": 4}

    # Her own link worker, made an administrator, gets the words of her messages only.
    async with app.sessions.begin() as session:
        sam = await session.get(Staff, ids["sam"])
        assert sam is not None
        sam.role = Role.ADMIN
    async with signed_in(app, "sam@example.org") as sam_client:
        everything = await sam_client.get("/admin/delivery.csv")
    rows = list(csv.DictReader(io.StringIO(everything.text)))
    assert len(rows) == 5
    texts = {r["expert ref"]: r["text"] for r in rows if r["text"]}
    assert set(texts) == {"EX-1"} and sent.body and sent.body.splitlines()[0] in texts["EX-1"]


async def test_every_delivery_log_page_is_not_found_for_a_link_worker(app: App) -> None:
    await _two_experts(app)
    sent = (await outbox(app, status=MessageStatus.SENT))[0]
    async with signed_in(app, "sam@example.org") as sam:
        for path in ("/admin/delivery", "/admin/delivery.csv", f"/admin/delivery/{sent.id}"):
            page = await sam.get(path)
            assert page.status_code == 404, path
            assert "Page not found" in page.text
    async with signed_in(app, ADMIN) as admin:
        for path in ("/admin/delivery/9999", "/admin/delivery/abc"):
            assert (await admin.get(path)).status_code == 404, path

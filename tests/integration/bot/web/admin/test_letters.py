"""Letters to print on the web pages: a batch is made, downloaded by someone allowed to see
every letter in it, and marked as posted. Letters carry names and home addresses."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.staff.accounts import find_staff, set_cover
from channels.base import OutgoingMessage
from channels.letter import LetterChannel, LetterConfig
from store.enums import AttemptOutcome, Channel, Purpose, Role
from store.models import AuditEvent, DeliveryAttempt, Expert, Message
from tests.builders import add_expert
from tests.staff_client import add_account, signed_in


async def letter_for(app: App, expert: Expert | None, key: str, name: str) -> str:
    """A letter made by the real channel, as the dispatcher makes it, with its delivery
    attempt when it is for a known expert; the letter's id."""
    channel = LetterChannel(
        LetterConfig(folder=app.settings.letters_dir, time_zone=app.settings.default_time_zone),
        clock=app.clock.now,
    )
    receipt = await channel.send(
        OutgoingMessage(
            idempotency_key=key,
            channel=Channel.LETTER,
            to="Flat 2\n8 Sample Road\nDundee DD1 1AA",
            body="Hi, it's Sam. Just a note that Tuesday is coming up.",
            recipient_name=name,
        )
    )
    if expert is not None:
        now = app.clock.now()
        async with app.sessions.begin() as session:
            message = Message(
                expert_id=expert.id,
                purpose=Purpose.PRE_BRIEF,
                idempotency_key=key,
                due_at=now,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(message)
            await session.flush()
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    channel=Channel.LETTER,
                    router_reason="their preferred channel",
                    outcome=AttemptOutcome.ACCEPTED,
                    provider_id=receipt.provider_id,
                    provider_status="queued for printing",
                    worker="test",
                    started_at=now,
                )
            )
    return receipt.provider_id


async def people(app: App) -> Expert:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Jo Brown", email="jo@example.org")
        await add_account(
            app, session, name="Alex Admin", email="alex@example.org", role=Role.ADMIN
        )
        return await add_expert(app, session, ref="EX-1")


BATCH = "2026-01-12-1"  # the first batch on the simulated Monday


async def test_an_administrator_makes_downloads_and_posts_a_batch(app: App) -> None:
    ana = await people(app)
    letter = await letter_for(app, ana, "eng1:exp1:pre_brief", "Ana Morrison")
    async with signed_in(app, "alex@example.org") as alex:
        before = await alex.get("/tasks/letters")
        assert "1 letter is waiting" in before.text
        made = await alex.post("/tasks/letters/batch")
        assert (made.status_code, made.headers["location"]) == (303, "/tasks/letters")
        listed = await alex.get("/tasks/letters")
        assert f"Batch {BATCH} is ready: 1 letter" in listed.text
        assert f"/tasks/letters/{BATCH}.pdf" in listed.text and "Not posted yet" in listed.text
        pdf = await alex.get(f"/tasks/letters/{BATCH}.pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("attachment")
        assert pdf.headers["cache-control"] == "no-store"
        assert pdf.content.startswith(b"%PDF")
        posted = await alex.post(f"/tasks/letters/{BATCH}/posted")
        assert posted.status_code == 303
        after = await alex.get("/tasks/letters")
        assert "is marked as posted" in after.text and "Not posted yet" not in after.text
        again = await alex.post(f"/tasks/letters/{BATCH}/posted")
        assert "already marked as posted" in (await alex.get(again.headers["location"])).text
    manifest_path = app.settings.letters_dir / "batches" / BATCH / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["posted_at"] and [e["id"] for e in manifest["letters"]] == [letter]
    async with app.sessions() as session:
        attempt = (await session.scalars(select(DeliveryAttempt))).one()
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert attempt.provider_status == "posted"
    assert {"letters.batched", "batch.viewed", "letters.posted"} <= actions


async def test_a_link_worker_downloads_only_a_batch_of_their_own_experts(app: App) -> None:
    ana = await people(app)
    await letter_for(app, ana, "eng1:exp1:pre_brief", "Ana Morrison")
    async with signed_in(app, "sam@example.org") as sam:
        assert (await sam.post("/tasks/letters/batch")).status_code == 303
        listed = await sam.get("/tasks/letters")
        assert f"/tasks/letters/{BATCH}.pdf" in listed.text
        pdf = await sam.get(f"/tasks/letters/{BATCH}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    async with signed_in(app, "jo@example.org") as jo:
        listed = await jo.get("/tasks/letters")
        assert f"/tasks/letters/{BATCH}.pdf" not in listed.text
        assert (await jo.get(f"/tasks/letters/{BATCH}.pdf")).status_code == 404
        assert (await jo.post(f"/tasks/letters/{BATCH}/posted")).status_code == 404
    manifest_path = app.settings.letters_dir / "batches" / BATCH / "manifest.json"
    assert json.loads(manifest_path.read_text(encoding="utf-8"))["posted_at"] is None


async def test_one_letter_for_someone_else_keeps_the_whole_batch_from_them(app: App) -> None:
    ana = await people(app)
    async with app.sessions.begin() as session:
        jo = await find_staff(session, "jo@example.org")
        assert jo is not None
        ben = await add_expert(
            app, session, preferred_name="Ben", phone="07123 456780", link_worker=jo.email
        )
    await letter_for(app, ana, "eng1:exp1:pre_brief", "Ana Morrison")
    await letter_for(app, ben, "eng1:exp2:pre_brief", "Ben Smith")
    await letter_for(app, None, "unknown-key", "Nobody Known")
    async with signed_in(app, "alex@example.org") as alex:
        await alex.post("/tasks/letters/batch")
        assert (await alex.get(f"/tasks/letters/{BATCH}.pdf")).status_code == 200
    for email in ("sam@example.org", "jo@example.org"):
        async with signed_in(app, email) as worker:
            assert (await worker.get(f"/tasks/letters/{BATCH}.pdf")).status_code == 404


async def test_the_covering_colleague_may_download_while_the_owner_is_away(app: App) -> None:
    ana = await people(app)
    await letter_for(app, ana, "eng1:exp1:pre_brief", "Ana Morrison")
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
        await jo_client.post("/tasks/letters/batch")
        assert (await jo_client.get(f"/tasks/letters/{BATCH}.pdf")).status_code == 200
        app.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
        await jo_client.sign_in("jo@example.org")  # the session ended while the clock moved on
        assert (await jo_client.get(f"/tasks/letters/{BATCH}.pdf")).status_code == 404


async def test_bad_batch_ids_are_not_found(app: App) -> None:
    ana = await people(app)
    await letter_for(app, ana, "eng1:exp1:pre_brief", "Ana Morrison")
    # Something outside the letters folder that a path trick would reach.
    (app.settings.letters_dir / "secret.pdf").write_bytes(b"%PDF-1.7 not yours")
    async with signed_in(app, "alex@example.org") as alex:
        await alex.post("/tasks/letters/batch")
        for path in (
            "/tasks/letters/2026-01-12-9.pdf",
            "/tasks/letters/...pdf",
            "/tasks/letters/..%2F..%2Fsecret.pdf",
            "/tasks/letters/%2E%2E.pdf",
            "/tasks/letters/2026-01-12-1%0A.pdf",
            "/tasks/letters/pending.pdf",
        ):
            response = await alex.get(path)
            assert response.status_code == 404, path
            assert b"not yours" not in response.content
        for batch in ("2026-01-12-9", "..", "2026-01-12-1%0A"):
            assert (await alex.post(f"/tasks/letters/{batch}/posted")).status_code == 404, batch


async def test_making_a_batch_with_nothing_waiting_says_so(app: App) -> None:
    await people(app)
    async with signed_in(app, "sam@example.org") as sam:
        made = await sam.post("/tasks/letters/batch")
        page = await sam.get(made.headers["location"])
    assert "No letters are waiting to be printed." in page.text
    assert "There are no batches yet." in page.text

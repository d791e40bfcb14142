"""`linkline letters batch`, `posted` and `list`, run as the print room would, in-process.

Letters are made by the real LetterChannel straight into the data folder the CLI reads
(LINKLINE_DATA_DIR, set by the `cli` fixture), as the dispatcher would make them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import Result

from bot.bootstrap import App
from bot.services.delivery.letters import make_batch, mark_posted
from channels.base import OutgoingMessage
from channels.letter import LetterChannel, LetterConfig
from store.enums import AttemptOutcome, Channel, Purpose
from store.models import AuditEvent, DeliveryAttempt, Message
from tests.builders import add_expert

Invoke = Callable[..., Result]


async def send_letter(
    folder: Path, key: str, name: str, clock: Callable[[], datetime] | None = None
) -> str:
    channel = LetterChannel(LetterConfig(folder=folder, time_zone="Europe/London"), clock=clock)
    receipt = await channel.send(
        OutgoingMessage(
            idempotency_key=key,
            channel=Channel.LETTER,
            to="Flat 2\n8 Sample Road\nDundee DD1 1AA",
            body="Hi, it's Sam. Just a note that Tuesday is coming up.",
            recipient_name=name,
        )
    )
    return receipt.provider_id


def batch_id(result: Result) -> str:
    found = re.search(r"Batch (\d{4}-\d{2}-\d{2}-\d+): ", result.stdout)
    assert found, result.output
    return found.group(1)


def test_a_batch_is_one_pdf_with_a_cover_naming_everyone(ready: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "var" / "letters"
    ids = [
        asyncio.run(send_letter(folder, k, name))
        for k, name in [("k1", "Ana Morrison"), ("k2", "Ben")]
    ]
    result = ready("letters", "batch")
    assert result.exit_code == 0, result.output
    batch = batch_id(result)
    assert "2 letters" in result.stdout and f"linkline letters posted {batch}" in result.stdout
    reader = PdfReader(folder / "batches" / batch / "batch.pdf")
    assert len(reader.pages) == 1 + 2
    cover = reader.pages[0].extract_text()
    assert "Ana Morrison" in cover and "Ben" in cover and "single-sided" in cover
    assert all(letter_id in cover.replace("\n", "") for letter_id in ids)
    assert not list((folder / "pending").glob("*.pdf"))
    assert ready("letters", "batch").stdout.strip() == "No letters are waiting to be printed."
    listed = ready("letters", "list").stdout
    assert "0 letters are waiting" in listed and batch in listed and "not posted yet" in listed


def test_a_batch_is_posted_once_only(ready: Invoke, tmp_path: Path) -> None:
    # Sync test: the CLI runs its own event loop.
    asyncio.run(send_letter(tmp_path / "var" / "letters", "k1", "Ana Morrison"))
    batch = batch_id(ready("letters", "batch"))
    first = ready("letters", "posted", batch)
    assert first.exit_code == 0, first.output
    assert f"Batch {batch} marked posted" in first.stdout
    again = ready("letters", "posted", batch)
    assert again.exit_code == 1 and "already posted" in again.stderr
    assert "not posted yet" not in ready("letters", "list").stdout


def test_an_unknown_batch_is_a_clear_error(ready: Invoke) -> None:
    result = ready("letters", "posted", "2026-03-16-9")
    assert result.exit_code == 1 and "no print batch '2026-03-16-9'" in result.stderr
    sneaky = ready("letters", "posted", "../../etc")
    assert sneaky.exit_code == 1 and "no print batch" in sneaky.stderr


def test_a_bad_date_is_refused_with_exit_2(ready: Invoke) -> None:
    result = ready("letters", "batch", "--date", "2026-13-01")
    assert result.exit_code == 2 and "is not a date" in result.stderr


async def test_posting_a_batch_marks_each_letter_attempt_posted(app: App) -> None:
    folder = app.settings.letters_dir
    letter = await send_letter(folder, "eng1:exp1:pre_brief", "Ana Morrison", app.clock.now)
    now = app.clock.now()
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        message = Message(
            expert_id=expert.id,
            purpose=Purpose.PRE_BRIEF,
            idempotency_key="eng1:exp1:pre_brief",
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
                provider_id=letter,
                provider_status="queued for printing",
                worker="test",
                started_at=now,
            )
        )
    made = make_batch(folder, now.date(), now, tz="Europe/London")
    assert made is not None and made.count == 1
    assert await mark_posted(app.sessions, folder, made.id, now) == 1
    async with app.sessions() as session:
        attempt = (await session.scalars(select(DeliveryAttempt))).one()
        assert attempt.provider_status == "posted"
        event = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "letters.posted"))
        ).one()
        assert event.entity == "batch" and "Ana" not in json.dumps(event.data)
    manifest = json.loads((made.path.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["posted_at"] and [e["id"] for e in manifest["letters"]] == [letter]

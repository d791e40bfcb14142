"""Print batches: the letters waiting in the print room, gathered into one PDF to print.

The files are the print room's truth: a letter is pending until it is moved into a batch,
and a batch is posted once its manifest says so. The database only hears about it, as the
"posted" status on each letter's delivery attempt.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.staff.access import NotFound, Scope
from channels.letter import LAYOUT_DIR, layout_environment, letter_id
from store import audit
from store.errors import Refused
from store.models import DeliveryAttempt, Expert, Message

_BATCH_ID = re.compile(r"^\d{4}-\d{2}-\d{2}-\d+$")
POSTED = "posted"


class LetterError(Refused):
    """A batch request that cannot be done; the message says why, for a person."""


@dataclass(frozen=True)
class Batch:
    id: str
    path: Path  # the combined batch.pdf to print
    count: int


@dataclass(frozen=True)
class BatchSummary:
    id: str
    count: int
    posted_at: str | None


@dataclass(frozen=True)
class PostedBatch:
    """A batch recorded as posted in the database, whose manifest still has to say so."""

    batch_dir: Path
    manifest: dict[str, Any]
    updated: int


def _write_private(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    temp.replace(path)


def _sidecar(pdf: Path) -> dict[str, str]:
    try:
        return json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing sidecar must not hold the letter back: it still gets printed


def _created_on(pdf: Path, tz: str) -> date:
    created = _sidecar(pdf).get("created_at")
    zone = ZoneInfo(tz)
    moment = (
        datetime.fromisoformat(created)
        if created
        else datetime.fromtimestamp(pdf.stat().st_mtime, zone)
    )
    return moment.astimezone(zone).date()


def _next_batch_dir(folder: Path, on: date) -> Path:
    batches = folder / "batches"
    batches.mkdir(mode=0o700, parents=True, exist_ok=True)
    n = 1
    while (batches / f"{on.isoformat()}-{n}").exists():
        n += 1
    return batches / f"{on.isoformat()}-{n}"


def _move_into(batch_dir: Path, pdf: Path) -> Path:
    """Move a letter and its sidecar; the rename is atomic, so it is in one place only."""
    sidecar = pdf.with_suffix(".json")
    if sidecar.exists():
        sidecar.replace(batch_dir / sidecar.name)
    return pdf.replace(batch_dir / pdf.name)


def make_batch(folder: Path, on: date, now: datetime, *, tz: str) -> Batch | None:
    """Gather every letter made on or before ``on`` into one print batch, or None if none.

    Each letter is moved (an atomic rename) before the combined PDF is made, so a letter
    is never in two batches and lookup() still finds it after a crash.
    """
    pending = folder / "pending"
    letters = sorted(p for p in pending.glob("*.pdf") if _created_on(p, tz) <= on)
    if not letters:
        return None
    batch_dir = _next_batch_dir(folder, on)
    batch_dir.mkdir(mode=0o700)
    moved = [_move_into(batch_dir, pdf) for pdf in letters]
    entries = [{"id": letter_id(p.stem), "file": p.name} for p in moved]
    names = [
        {"id": letter_id(p.stem), "name": _sidecar(p).get("recipient_name", "")} for p in moved
    ]
    _write_private(batch_dir / "batch.pdf", _combined(batch_dir.name, names, moved))
    manifest = {
        "id": batch_dir.name,
        "on": on.isoformat(),
        "created_at": now.isoformat(timespec="seconds"),
        "letters": entries,
        "posted_at": None,
    }
    _write_manifest(batch_dir, manifest)
    return Batch(id=batch_dir.name, path=batch_dir / "batch.pdf", count=len(moved))


def _combined(batch_id: str, names: list[dict[str, str]], letters: list[Path]) -> bytes:
    """The cover sheet, then every letter, pages in order, as one file to print."""
    from weasyprint import HTML  # late import: Pango is slow to load

    html = (
        layout_environment()
        .get_template("cover.html.j2")
        .render(batch_id=batch_id, count=len(letters), letters=names)
    )
    cover = HTML(string=html, base_url=str(LAYOUT_DIR)).write_pdf(pdf_variant="pdf/ua-1")
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)))
    for pdf in letters:
        writer.append(PdfReader(pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _write_manifest(batch_dir: Path, manifest: dict[str, Any]) -> None:
    _write_private(batch_dir / "manifest.json", json.dumps(manifest, indent=2).encode())


def _read_manifest(folder: Path, batch_id: str) -> tuple[Path, dict[str, Any]]:
    # fullmatch: "$" would let a trailing newline through; nothing but the id reaches a path.
    if not _BATCH_ID.fullmatch(batch_id.strip()):
        raise LetterError(f"there is no print batch {batch_id!r}: see `linkline letters list`")
    batch_dir = folder / "batches" / batch_id.strip()
    if not (batch_dir / "manifest.json").exists():
        raise LetterError(f"there is no print batch {batch_id!r}: see `linkline letters list`")
    return batch_dir, json.loads((batch_dir / "manifest.json").read_text(encoding="utf-8"))


def _batch_letters(folder: Path, batch_id: str) -> tuple[Path, list[str], list[str]]:
    """The batch folder, its letters' ids (as on their delivery attempts) and the message
    keys their sidecars name: the two ways to find whom each letter is for."""
    batch_dir, manifest = _read_manifest(folder, batch_id)
    ids = [str(entry["id"]) for entry in manifest["letters"]]
    keys = []
    for entry in manifest["letters"]:
        key = _sidecar(batch_dir / str(entry["file"])).get("idempotency_key")
        keys.append(str(key) if key else "")
    return batch_dir, ids, keys


async def batch_in_scope(session: AsyncSession, scope: Scope, folder: Path, batch_id: str) -> Path:
    """The batch's combined PDF, if this person may have it; NotFound otherwise.

    Letters carry names and postal addresses, so a link worker may have a batch only when
    every letter in it is for one of the experts they may see. A letter whose expert
    cannot be found counts as not theirs. An administrator may have any batch.
    """
    if not _BATCH_ID.fullmatch(batch_id):  # exactly an id: no spaces, no newline, no path
        raise NotFound(f"batch {batch_id!r}")
    try:
        batch_dir, ids, keys = await asyncio.to_thread(_batch_letters, folder, batch_id)
    except LetterError:
        raise NotFound(f"batch {batch_id!r}") from None
    pdf = batch_dir / "batch.pdf"
    if not pdf.is_file():
        raise NotFound(f"batch {batch_id!r}")
    if scope.is_admin:
        return pdf
    attempts = await session.execute(
        select(DeliveryAttempt.provider_id, Message.expert_id)
        .join(Message, Message.id == DeliveryAttempt.message_id)
        .where(DeliveryAttempt.provider_id.in_(ids))
    )
    by_attempt = dict(attempts.all())  # not dict(result): a Result has keys()
    messages = await session.execute(
        select(Message.idempotency_key, Message.expert_id).where(
            Message.idempotency_key.in_([k for k in keys if k])
        )
    )
    by_key = dict(messages.all())
    owners = [by_attempt.get(i) or by_key.get(k) for i, k in zip(ids, keys, strict=True)]
    wanted = {o for o in owners if o is not None}
    visible = set(
        await session.scalars(select(Expert.id).where(Expert.id.in_(wanted), scope.experts()))
    )
    if not owners or any(o is None or o not in visible for o in owners):
        raise NotFound(f"batch {batch_id!r}")
    return pdf


def list_batches(folder: Path) -> tuple[int, list[BatchSummary]]:
    """How many letters wait to be batched, and every batch with its posted date."""
    waiting = len(list((folder / "pending").glob("*.pdf")))
    out = []
    for manifest_path in sorted((folder / "batches").glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        out.append(BatchSummary(manifest["id"], len(manifest["letters"]), manifest["posted_at"]))
    return waiting, out


def newest_first(batches: list[BatchSummary]) -> list[BatchSummary]:
    """By day, then by number: "-10" comes after "-9", which sorting the text would not do."""

    def order(summary: BatchSummary) -> tuple[str, int]:
        day, _, n = summary.id.rpartition("-")
        return day, int(n) if n.isdigit() else 0

    return sorted(batches, key=order, reverse=True)


async def batch_today(
    session: AsyncSession, folder: Path, on: date, now: datetime, *, actor: str, tz: str
) -> Batch | None:
    """``make_batch`` off the event loop (PDF work is slow), recorded in the audit trail."""
    made = await asyncio.to_thread(lambda: make_batch(folder, on, now, tz=tz))
    if made is not None:
        audit.record(
            session,
            actor=actor,
            action="letters.batched",
            entity="batch",
            entity_id=None,
            at=now,
            batch=made.id,
            letters=made.count,
        )
    return made


async def record_posted(
    session: AsyncSession, folder: Path, batch_id: str, now: datetime, *, actor: str
) -> PostedBatch:
    """The database half of posting a batch, in the caller's transaction.

    Call ``finish_posted`` once that transaction has committed: the manifest is written
    last, so a failed write leaves a harmless update to repeat, never a database behind.
    """
    batch_dir, manifest = await asyncio.to_thread(_read_manifest, folder, batch_id)
    if manifest.get("posted_at"):
        raise LetterError(f"batch {manifest['id']} was already posted on {manifest['posted_at']}")
    ids = [str(entry["id"]) for entry in manifest["letters"]]
    rows = (
        await session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.provider_id.in_(ids)))
    ).all()
    for attempt in rows:
        attempt.provider_status = POSTED
    audit.record(
        session,
        actor=actor,
        action="letters.posted",
        entity="batch",
        entity_id=None,
        at=now,
        batch=str(manifest["id"]),
        letters=len(ids),
    )
    manifest = {**manifest, "posted_at": now.isoformat(timespec="seconds")}
    return PostedBatch(batch_dir, manifest, len(rows))


async def finish_posted(posted: PostedBatch) -> None:
    """The manifest half: the print room's files now say the batch is posted."""
    await asyncio.to_thread(_write_manifest, posted.batch_dir, posted.manifest)


async def mark_posted(
    sessions: async_sessionmaker[AsyncSession],
    folder: Path,
    batch_id: str,
    now: datetime,
    *,
    actor: str = "cli",
) -> int:
    """Record that a batch went in the post; returns how many delivery attempts were updated.

    The database is updated first and the manifest last: if the manifest write fails, a
    second run repeats a harmless update instead of leaving the database behind.
    """
    async with sessions.begin() as session:
        posted = await record_posted(session, folder, batch_id, now, actor=actor)
    await finish_posted(posted)
    return posted.updated

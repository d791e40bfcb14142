"""The delivery log as CSV, for administrators: no phone numbers or addresses, message
text only for the viewer's own experts, and every cell guarded against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.contact_details import guard_formula
from bot.services.delivery.log import LogFilter, line_of, log_query, texts_for
from store import audit

EXPORT_CHUNK = 1000

CSV_COLUMNS = (
    "message", "due (UK time)", "sent (UK time)", "expert ref", "link worker", "purpose",
    "channel", "status", "why", "provider status", "provider error", "attempts", "text",
)  # fmt: skip


@dataclass(frozen=True)
class LogExport:
    text: str
    count: int


def _local(moment: datetime | None, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if moment else ""


def _text_cell(text: tuple[str | None, str | None] | None) -> str:
    if text is None:
        return ""
    subject, body = text
    return "\n\n".join(part for part in (subject, body) if part)


async def export_csv(
    session: AsyncSession, f: LogFilter, *, viewer_id: int, actor: str, now: datetime, tz: str
) -> LogExport:
    """The log as CSV, newest first: no phone numbers or addresses, text only for the
    viewer's own experts, and every cell guarded against spreadsheet formulas. Times are
    written in ``tz`` (the column headings say "UK time", the organisation's zone)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count, offset = 0, 0
    while True:
        chunk = list(await session.scalars(log_query(f).offset(offset).limit(EXPORT_CHUNK)))
        if not chunk:
            break
        texts = await texts_for(session, [m.id for m in chunk], viewer_id)
        for message in chunk:
            line = line_of(message)
            cells = (
                str(line.id), _local(line.due_at, tz), _local(line.sent_at, tz), line.expert_ref,
                line.link_worker, line.purpose_label,
                line.channel_label if line.channel else "", line.status_label, line.reason,
                line.provider_status, line.provider_error, str(line.attempts),
                _text_cell(texts.get(line.id)),
            )  # fmt: skip
            writer.writerow([guard_formula(cell) for cell in cells])
        count += len(chunk)
        offset += EXPORT_CHUNK
    audit.record(
        session,
        actor=actor,
        action="delivery_log.exported",
        entity="message",
        entity_id=None,
        at=now,
        count=count,
    )
    return LogExport(out.getvalue(), count)

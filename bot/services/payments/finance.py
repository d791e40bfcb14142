"""The finance team's file: approved lines waiting to be paid (and, if asked, those paid),
by reference rather than by name; and the same file back, marking a batch paid.

A returned file is checked whole before anything changes: one bad row (an unknown
reference, a line declined or already paid, an amount that differs from the ledger, the
same reference twice) refuses the file with every problem listed by row, and nothing is
marked. Writing ``yes`` in the ``paid`` column is how finance says a row was paid.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people import ledger
from scheduling.planning.payment_notices import pay
from scheduling.rules.payments import PaymentError, parse_amount, pounds
from scheduling.text.words import label
from store.enums import PaymentStatus
from store.errors import Refused
from store.models import PaymentLine

COLUMNS = ["reference", "amount", "status", "approved_on", "paid"]
NAMED = ["expert_ref", "name", "what_for"]
MAX_ROWS = 5000
FILE_FIELD = "paid_file"  # the upload box on the administrators' payments page
_YES = {"yes", "y", "paid", "true", "1"}


def _day(moment: datetime | None, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d") if moment else ""


def export_csv(lines: Iterable[PaymentLine], tz: str, *, names: bool = False) -> str:
    """The lines as CSV text; ``paid`` holds the date a paid line was paid."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS + (NAMED if names else []))
    for line in lines:
        row = [
            line.reference,
            f"{line.amount_pence / 100:.2f}",
            label(line.status),
            _day(line.approved_at, tz),
            _day(line.paid_at, tz),
        ]
        if names:
            expert = line.invitation.expert
            row += [expert.ref or "", expert.preferred_name, label(line.purpose)]
        writer.writerow(row)
    return out.getvalue()


async def lines_for_finance(session: AsyncSession, *, include_paid: bool) -> list[PaymentLine]:
    wanted = {PaymentStatus.APPROVED} | ({PaymentStatus.PAID} if include_paid else set())
    return [line for line in await ledger.lines_for(session) if line.status in wanted]


async def mark_paid_from_csv(
    session: AsyncSession, text: str, *, now: datetime, actor: str
) -> list[PaymentLine]:
    """Mark paid every row with ``yes`` in its ``paid`` column, or refuse the whole file."""
    rows = _rows(text)
    problems: dict[int, str] = {}
    chosen: list[PaymentLine] = []
    seen: set[int] = set()
    for number, row in rows:
        if (row.get("paid") or "").strip().lower() not in _YES:
            continue
        try:
            line = await ledger.find_line(session, (row.get("reference") or "").strip())
            if line.id in seen:
                raise PaymentError(f"{line.reference} is in the file twice")
            seen.add(line.id)
            if line.status is PaymentStatus.PAID:
                raise PaymentError(f"{line.reference} was already paid: it is not paid twice")
            if line.status is not PaymentStatus.APPROVED:
                raise PaymentError(
                    f"{line.reference} is {label(line.status).lower()}, not approved"
                )
            if (row.get("amount") or "").strip():
                amount = parse_amount(row["amount"])
                if amount != line.amount_pence:
                    raise PaymentError(
                        f"{line.reference} says {pounds(amount)} but the ledger says "
                        f"{pounds(line.amount_pence)}"
                    )
            chosen.append(line)
        except Refused as exc:
            problems[number] = f"row {number}: {exc.plain}"
    if problems:
        _refuse_batch(problems)
    if not chosen:
        raise PaymentError("No row says yes in the paid column: nothing was marked paid")
    for line in chosen:
        await pay(session, line, now=now, actor=actor)
    return chosen


def _refuse_batch(problems: dict[int, str]) -> None:
    """Every problem, each by its row (a page lists them in its error summary)."""
    listed = list(problems.values())
    summary = "Nothing was marked paid. " + "; ".join(listed[:20])
    if len(listed) > 20:
        summary += f"; and {len(listed) - 20} more"
    errors = {FILE_FIELD: "Nothing was marked paid: fix the rows listed and upload it again"}
    errors |= {f"{FILE_FIELD}-row-{n}": text[:1].upper() + text[1:] for n, text in problems.items()}
    raise PaymentError(summary, errors=errors)


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    if not text.strip():
        raise PaymentError("The file is empty")
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "reference" not in header or "paid" not in header:
            raise PaymentError(
                "The file needs a reference column and a paid column: use the exported file"
            )
        reader.fieldnames = header
        rows = []
        for number, row in enumerate(reader, start=2):
            if number > MAX_ROWS + 1:
                raise PaymentError(f"The file has more than {MAX_ROWS} rows: split it")
            rows.append((number, {k: v for k, v in row.items() if isinstance(k, str)}))
    except csv.Error as exc:
        raise PaymentError(f"The file is not readable as CSV ({exc})") from None
    return rows

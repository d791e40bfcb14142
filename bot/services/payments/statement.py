"""A yearly statement for one person: what we paid them, when, and for what, for their own
benefit reporting. A letter-shaped PDF (the discreet letter layout: no logo, no
organisation name) they can be posted, emailed or handed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import OutgoingMessage
from channels.letter import LetterConfig, render_letter_html, render_pdf
from scheduling.people import ledger
from scheduling.rules.payments import PaymentError, pounds
from scheduling.text.words import label
from store.enums import Channel, PaymentStatus
from store.models import Expert, PaymentLine


@dataclass(frozen=True)
class Statement:
    body: str
    total_pence: int
    record: str  # the body without its greeting and signature: what a letter or email says
    lines: list[PaymentLine]


async def yearly_statement(session: AsyncSession, expert: Expert, year: int) -> Statement:
    """The lines paid to them in ``year`` (their own calendar), oldest first."""
    if not 2000 <= year <= 2100:
        raise PaymentError(f"{year} is not a year we could have paid anyone in", field="year")
    zone = ZoneInfo(expert.time_zone)
    paid = [
        line
        for line in await ledger.lines_for(session, expert_id=expert.id)
        if line.status is PaymentStatus.PAID
        and line.paid_at is not None
        and line.paid_at.astimezone(zone).year == year
    ]
    paid.sort(key=lambda line: (line.paid_at, line.id))
    total = sum(line.amount_pence for line in paid)
    rows = [
        f"{line.paid_at.astimezone(zone):%-d %B %Y}: {label(line.purpose)}, "  # type: ignore[union-attr]
        f"{pounds(line.amount_pence)}"
        for line in paid
    ]
    record = "\n\n".join(
        [
            f"This is a record of what we paid you between 1 January and 31 December {year}, "
            "for you to keep or show to anyone who asks about your income.",
            "\n".join(rows) if rows else f"We did not pay you anything in {year}.",
            f"Total for {year}: {pounds(total)}.",
            "Payments for your time and payments back for costs you had are listed "
            "separately. If anything here looks wrong, tell your link worker.",
        ]
    )
    signed = expert.link_worker.name.split(" ")[0]
    body = f"Dear {expert.preferred_name},\n\n{record}\n\nWith thanks,\n{signed}"
    return Statement(body, total, record, paid)


def statement_html(
    expert: Expert, address: str | None, statement: Statement, config: LetterConfig, today: date
) -> str:
    message = OutgoingMessage(
        idempotency_key=f"statement:{expert.id}:{today.isoformat()}",
        channel=Channel.LETTER,
        # With no postal address on record, the page is for handing over in person.
        to=address or "By hand",
        body=statement.body,
        recipient_name=expert.preferred_name,
    )
    return render_letter_html(message, config, today)


async def statement_pdf(
    expert: Expert, address: str | None, statement: Statement, config: LetterConfig, today: date
) -> bytes:
    html = statement_html(expert, address, statement, config, today)
    data, _ = await asyncio.to_thread(render_pdf, html)
    return data

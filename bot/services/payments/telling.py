"""What a person is owed, in words for them: a reply to "PAID?" and their own record."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people import ledger
from scheduling.rules.payments import pounds
from scheduling.rules.wording import spoken_day
from store.enums import PaymentStatus
from store.models import Expert


async def owed_to(session: AsyncSession, expert: Expert) -> dict[str, Any]:
    """``waiting``: anything owed or approved; ``owed``: its total; ``last_paid``: the
    latest payment and its day (empty when none). Never what any of it was for."""
    lines = await ledger.lines_for(session, expert_id=expert.id)
    totals = ledger.totals(lines)
    paid = [line for line in lines if line.status is PaymentStatus.PAID and line.paid_at]
    last = max(paid, key=lambda line: (line.paid_at, line.id), default=None)
    last_paid = ""
    if last is not None and last.paid_at is not None:
        same_day = [
            line.amount_pence
            for line in paid
            if line.paid_at and line.paid_at.date() == last.paid_at.date()
        ]
        last_paid = f"{pounds(sum(same_day))} on {spoken_day(last.paid_at, expert.time_zone)}"
    return {
        "waiting": totals.outstanding > 0,
        "owed": pounds(totals.outstanding),
        "last_paid": last_paid,
    }

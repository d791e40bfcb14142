"""An approved payment left unpaid too long alerts the administrators, once per line.

The limit is the organisation's (an administrator's setting, ten working days unless they
change it), counted in Scottish working days from the day it was approved."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.working_days import is_working_day
from scheduling.clock import local_today
from scheduling.people.staff_alerts import alert_each
from store.enums import PaymentStatus, Role
from store.models import OrgSetting, PaymentLine, Staff

log = logging.getLogger(__name__)

DEFAULT_WORKING_DAYS = 10
SETTING = "payments_unpaid_limit"


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += is_working_day(day)
    return days


async def unpaid_limit(session: AsyncSession) -> int:
    setting = await session.get(OrgSetting, SETTING)
    value = (setting.value if setting is not None else {}).get("working_days")
    return value if isinstance(value, int) and 1 <= value <= 60 else DEFAULT_WORKING_DAYS


async def alert_unpaid(session: AsyncSession, now: datetime, office_tz: str) -> int:
    """Alert every administrator about each approved line past the limit; each line once."""
    limit = await unpaid_limit(session)
    today = local_today(now, office_tz)
    waiting = await session.scalars(
        select(PaymentLine)
        .where(
            PaymentLine.status == PaymentStatus.APPROVED,
            PaymentLine.overdue_alerted_at.is_(None),
            PaymentLine.approved_at <= now - timedelta(days=limit),  # a cheap first cut
        )
        .order_by(PaymentLine.approved_at)
        .with_for_update(skip_locked=True)
    )
    late = [
        line
        for line in waiting
        if line.approved_at is not None
        and working_days_between(local_today(line.approved_at, office_tz), today) >= limit
    ]
    if not late:
        return 0
    admins = list(
        await session.scalars(
            select(Staff).where(Staff.role == Role.ADMIN, Staff.active.is_(True)).order_by(Staff.id)
        )
    )
    for line in late:
        await alert_each(
            session, admins, reason="unpaid_payment", task=None, about=f"unpaid:{line.id}", now=now
        )
        line.overdue_alerted_at = now
    log.warning("%d approved payments are unpaid past the limit; administrators alerted", len(late))
    return len(late)

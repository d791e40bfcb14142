"""An approved payment left unpaid past ten working days alerts every administrator, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.people.payment_alerts import working_days_between
from store.enums import PaymentPurpose, Role
from store.models import Invitation, StaffAlert
from tests.builders import add_engagement, add_expert, add_staff

pytestmark = pytest.mark.db_contract


async def test_an_unpaid_approved_line_alerts_admins_once_after_ten_working_days(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        await add_staff(session, "Ola Admin", "ola@example.org", Role.ADMIN, clock.now())
        ana = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[ana])
        invitation = await session.get_one(Invitation, engagement.invitations[0].id)
        line = await ledger.open_line(
            session, invitation, PaymentPurpose.TRAVEL, 640, now=clock.now(), actor="t"
        )
        await ledger.approve(session, line, now=clock.now(), actor="t")
    clock.advance(timedelta(days=13))  # Monday to the second Sunday: nine working days
    assert await app.maintenance().alert_unpaid_payments() == 0
    clock.advance(timedelta(days=1))  # the tenth working day
    assert await app.maintenance().alert_unpaid_payments() == 1
    assert await app.maintenance().alert_unpaid_payments() == 0
    async with app.sessions() as session:
        alerts = list(await session.scalars(select(StaffAlert)))
    assert [a.reason for a in alerts] == ["unpaid_payment"]


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    from datetime import date

    assert working_days_between(date(2026, 1, 12), date(2026, 1, 26)) == 10
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1  # Christmas

"""The finance file on both databases: exported by reference, marked paid from the same
file, and a file with any bad row marks nothing; a yearly statement lists what was paid."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.services.payments import finance, statement
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.rules.payments import PaymentError
from store.enums import PaymentPurpose, PaymentStatus
from store.models import Expert, Invitation
from tests.builders import add_engagement, add_expert

pytestmark = pytest.mark.db_contract


async def _approved(app: App) -> int:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        engagement = await add_engagement(app, session, experts=[ana])
        invitation = await session.get_one(Invitation, engagement.invitations[0].id)
        now = app.clock.now()
        for purpose, pence in ((PaymentPurpose.TIME, 2500), (PaymentPurpose.TRAVEL, 640)):
            line = await ledger.open_line(session, invitation, purpose, pence, now=now, actor="t")
            await ledger.approve(session, line, now=now, actor="t")
        return ana.id


async def _statuses(app: App) -> list[PaymentStatus]:
    async with app.sessions() as session:
        return [line.status for line in await ledger.lines_for(session)]


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ("LL000001,25.00,yes\nLL000099,6.40,yes\n", "row 3: There is no payment"),
        ("LL000001,25.00,yes\nLL000002,64.00,yes\n", "row 3: LL000002 says £64.00"),
        ("LL000001,25.00,yes\nLL000001,25.00,yes\n", "row 3: LL000001 is in the file twice"),
        ("LL000001,-25.00,yes\n", "row 2: An amount cannot be less than nothing"),
    ],
)
async def test_a_file_with_a_bad_row_marks_nothing(app: App, rows: str, words: str) -> None:
    await _approved(app)
    async with app.sessions.begin() as session:
        with pytest.raises(PaymentError, match=words):
            await finance.mark_paid_from_csv(
                session, "reference,amount,paid\n" + rows, now=app.clock.now(), actor="t"
            )
    assert await _statuses(app) == [PaymentStatus.APPROVED, PaymentStatus.APPROVED]


async def test_the_exported_file_marks_the_batch_paid_once(app: App, clock: SimulatedClock) -> None:
    ana_id = await _approved(app)
    async with app.sessions() as session:
        lines = await finance.lines_for_finance(session, include_paid=False)
        text = finance.export_csv(lines, "Europe/London")
    assert "Ana" not in text and text.splitlines()[0] == "reference,amount,status,approved_on,paid"
    back = "\n".join(line + "yes" if line.startswith("LL") else line for line in text.splitlines())
    async with app.sessions.begin() as session:
        done = await finance.mark_paid_from_csv(session, back, now=clock.now(), actor="t")
    assert len(done) == 2
    assert await _statuses(app) == [PaymentStatus.PAID, PaymentStatus.PAID]
    async with app.sessions.begin() as session:
        with pytest.raises(PaymentError, match="already paid"):
            await finance.mark_paid_from_csv(session, back, now=clock.now(), actor="t")
    async with app.sessions() as session:
        ana = await session.get_one(Expert, ana_id)
        await session.refresh(ana, ["link_worker"])
        made = await statement.yearly_statement(session, ana, clock.now().year)
    assert made.total_pence == 3140
    assert "Total for 2026: £31.40." in made.body and "None" not in made.body
    assert "12 January 2026: Time, £25.00" in made.body


async def test_their_own_record_lists_what_we_owed_and_paid_them(app: App) -> None:
    from bot.services.payments.claims import set_choice
    from bot.services.privacy.subject_access import build_export, render_export
    from scheduling.rules.payments import PaymentChoice
    from store.enums import PaymentMethod

    ana_id = await _approved(app)
    async with app.sessions.begin() as session:
        ana = await session.get_one(Expert, ana_id)
        choice = PaymentChoice(PaymentMethod.VOUCHER, "supermarket", "")
        await set_choice(session, ana, choice, now=app.clock.now(), actor="t")
    async with app.sessions() as session:
        ana = await session.get_one(Expert, ana_id)
        record = await build_export(session, ana, now=app.clock.now(), tz="Europe/London")
        html = render_export(record)
    assert "LL000001: Time for First contact workshop, £25.00." in html
    assert "Approved, waiting to be paid" in html
    assert "Voucher: supermarket" in html and "voucher_kind" not in html

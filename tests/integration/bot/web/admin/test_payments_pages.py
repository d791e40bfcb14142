"""The payments pages as staff use them: recording what someone is owed on the engagement,
their payment choice on their own page, and the administrators' list, oldest first, where
lines are approved, paid or declined. Bad input shows the form again with nothing saved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from store.enums import MessageStatus, PaymentPurpose, PaymentStatus, Purpose, Role, TaskKind
from store.models import Expert, Invitation, Message, PaymentLine, Task
from tests.builders import add_engagement, add_expert
from tests.staff_client import add_account, signed_in


async def _world(app: App) -> tuple[int, int, int]:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Ada Admin", email="ada@example.org", role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        engagement = await add_engagement(app, session, experts=[ana], title="Listening panel")
        return engagement.id, engagement.invitations[0].id, ana.id


async def _lines(app: App) -> list[tuple[str, PaymentStatus, int]]:
    async with app.sessions() as session:
        return [
            (line.purpose.value, line.status, line.amount_pence)
            for line in await session.scalars(select(PaymentLine).order_by(PaymentLine.id))
        ]


async def test_a_claim_on_the_engagement_then_approve_and_pay_on_the_list(
    app: App, clock: SimulatedClock
) -> None:
    engagement_id, invitation_id, _ = await _world(app)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get(f"/engagements/{engagement_id}/payments")
        assert page.status_code == 200 and "No payment for time" in page.text
        for amount, words in (("-4", "less than nothing"), ("lots", "not an amount of money")):
            refused = await sam.post(
                f"/engagements/{engagement_id}/payments",
                {"invitation": str(invitation_id), "purpose": "travel", "amount": amount},
            )
            assert refused.status_code == 400 and words in refused.text
        assert await _lines(app) == []
        saved = await sam.post(
            f"/engagements/{engagement_id}/payments",
            {"invitation": str(invitation_id), "purpose": "travel", "amount": "6.40",
             "what_for": "Two bus fares", "receipt": "yes"},
        )  # fmt: skip
        assert saved.status_code == 303
        page = await sam.get(f"/engagements/{engagement_id}/payments")
        assert "£6.40" in page.text and "Two bus fares" in page.text and "None" not in page.text
        # A link worker may not see the administrators' list, nor approve.
        assert (await sam.get("/admin/payments")).status_code == 404
    clock.advance(timedelta(hours=1))
    async with app.sessions.begin() as session:
        other = await add_expert(
            app, session, preferred_name="Ben", ref="EX-2", phone="07123 456780"
        )
        later = await add_engagement(app, session, experts=[other], title="Second panel")
        await ledger.open_line(
            session, later.invitations[0], PaymentPurpose.MEALS, 400, now=clock.now(),
            actor="t",
        )  # fmt: skip
    async with signed_in(app, "ada@example.org") as ada:
        page = await ada.get("/admin/payments")
        assert page.status_code == 200
        assert page.text.index("LL000001") < page.text.index("LL000002")  # oldest first
        assert (await ada.post("/admin/payments/1/paid", {})).status_code == 400
        assert (await ada.post("/admin/payments/1/approve", {})).status_code == 303
        assert (await ada.post("/admin/payments/1/paid", {})).status_code == 303
        again = await ada.post("/admin/payments/1/paid", {})
        assert again.status_code == 400 and "already paid" in again.text
        no_reason = await ada.post("/admin/payments/2/decline", {"reason": ""})
        assert no_reason.status_code == 400 and "reason" in no_reason.text
        assert (
            await ada.post("/admin/payments/2/decline", {"reason": "No receipt"})
        ).status_code == 303
        assert (await ada.post("/admin/payments/99/paid", {})).status_code == 404
        assert "Nothing is owed." in (await ada.get("/admin/payments")).text
    assert await _lines(app) == [
        ("travel", PaymentStatus.PAID, 640),
        ("meals", PaymentStatus.DECLINED, 400),
    ]
    async with app.sessions() as session:
        notices = list(
            await session.scalars(select(Message).where(Message.purpose == Purpose.PAYMENT_SENT))
        )
        kinds = [t.kind for t in await session.scalars(select(Task))]
    assert [(m.status, m.variant) for m in notices] == [(MessageStatus.PENDING, 640)]
    assert TaskKind.EXPLAIN_DECLINE in kinds


async def test_the_payment_choice_is_asked_shown_to_staff_and_checked(app: App) -> None:
    _, _, ana_id = await _world(app)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get(f"/experts/{ana_id}/payments")
        assert "Not asked yet" in page.text and "None" not in page.text
        bad = await sam.post(f"/experts/{ana_id}/payment-choice", {"method": "cash"})
        assert bad.status_code == 400 and "not a method" in bad.text
        saved = await sam.post(
            f"/experts/{ana_id}/payment-choice",
            {"method": "talk_first", "note": "On Universal Credit"},
        )
        assert saved.status_code == 303
        page = await sam.get(f"/experts/{ana_id}/payments")
        assert "Talk to me first (benefits)" in page.text and "On Universal Credit" in page.text
    async with app.sessions() as session:
        expert = await session.get_one(Expert, ana_id)
        assert "talk_first" in (expert.payment_preference or "")


async def test_the_yearly_statement_is_sent_or_downloaded_from_their_page(
    app: App, clock: SimulatedClock
) -> None:
    _, invitation_id, ana_id = await _world(app)
    async with app.sessions.begin() as session:
        line = await ledger.open_line(
            session, await session.get_one(Invitation, invitation_id), PaymentPurpose.TRAVEL,
            640, now=clock.now(), actor="t",
        )  # fmt: skip
        await ledger.approve(session, line, now=clock.now(), actor="t")
        await ledger.mark_paid(session, line, now=clock.now(), actor="t")
    year = str(clock.now().year)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get(f"/experts/{ana_id}/payments")
        assert "Their yearly statement" in page.text and "Send it to them" in page.text
        pdf = await sam.get(f"/experts/{ana_id}/statement.pdf", params={"year": year})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["cache-control"] == "no-store"
        assert "Ana" not in pdf.headers["content-disposition"]
        for bad in ("lots", "1066"):
            refused = await sam.post(f"/experts/{ana_id}/statement", {"year": bad})
            assert refused.status_code == 400 and "There is a problem" in refused.text
        bad_get = await sam.get(f"/experts/{ana_id}/statement.pdf", params={"year": "x"})
        assert bad_get.status_code == 400
        # Ana has text messages only, not agreed safe for details: Sam gets a task.
        sent = await sam.post(f"/experts/{ana_id}/statement", {"year": year})
        assert sent.status_code == 303
        page = await sam.get(f"/experts/{ana_id}/payments")
        assert "no safe way to send it" in page.text
    async with app.sessions() as session:
        kinds = [t.kind for t in await session.scalars(select(Task))]
        statements = list(
            await session.scalars(select(Message).where(Message.purpose == Purpose.STATEMENT))
        )
    assert TaskKind.DELIVERY_PROBLEM in kinds and statements == []

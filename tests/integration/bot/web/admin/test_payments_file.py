"""The finance team's file on the administrators' payments page: downloaded by reference
(names only when ticked), and uploaded back to mark a batch paid. A file with any bad row
marks nothing, and the page lists every problem by its row."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.bootstrap import App
from scheduling.people import ledger
from store.enums import PaymentPurpose, PaymentStatus, Role
from store.models import PaymentLine
from tests.builders import add_engagement, add_expert
from tests.staff_client import StaffClient, add_account, signed_in


async def _world(app: App) -> None:
    """Three approved lines for Ana (LL000001..3) and a declined one (LL000004)."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Ada Admin", email="ada@example.org", role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        engagement = await add_engagement(app, session, experts=[ana], title="Listening panel")
        now, invitation = app.clock.now(), engagement.invitations[0]
        for purpose, pence in (
            (PaymentPurpose.TIME, 2500),
            (PaymentPurpose.TRAVEL, 640),
            (PaymentPurpose.MEALS, 800),
        ):
            line = await ledger.open_line(session, invitation, purpose, pence, now=now, actor="t")
            await ledger.approve(session, line, now=now, actor="t")
        declined = await ledger.open_line(
            session, invitation, PaymentPurpose.OTHER, 300, now=now, actor="t"
        )
        await ledger.decline(session, declined, "No receipt", now=now, actor="t")


async def _statuses(app: App) -> list[PaymentStatus]:
    async with app.sessions() as session:
        return list(await session.scalars(select(PaymentLine.status).order_by(PaymentLine.id)))


async def _upload(client: StaffClient, content: bytes, name: str = "payments.csv") -> str:
    token = await client.token()
    response = await client.http.post(
        "/admin/payments/paid-file",
        data={"csrf_token": token},
        files={"paid_file": (name, content, "text/csv")},
    )
    assert response.status_code in (303, 400), response.status_code
    return response.text if response.status_code == 400 else ""


def _file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "amount", "status", "approved_on", "paid"])
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_the_file_is_by_reference_unless_names_are_ticked(app: App) -> None:
    await _world(app)
    async with signed_in(app, "ada@example.org") as ada:
        plain = await ada.get("/admin/payments/finance.csv")
        assert plain.status_code == 200 and plain.headers["cache-control"] == "no-store"
        assert plain.headers["content-type"].startswith("text/csv")
        assert "LL000001" in plain.text and "Ana" not in plain.text
        assert "LL000004" not in plain.text  # a declined line is nobody's to pay
        named = await ada.get("/admin/payments/finance.csv?names=yes")
        assert "Ana" in named.text and "EX-1" in named.text
    async with signed_in(app, "sam@example.org") as sam:
        assert (await sam.get("/admin/payments/finance.csv")).status_code == 404


async def test_the_same_file_back_marks_the_batch_paid(app: App) -> None:
    await _world(app)
    async with signed_in(app, "ada@example.org") as ada:
        exported = (await ada.get("/admin/payments/finance.csv")).text
        rows = list(csv.reader(io.StringIO(exported)))
        for row in rows[1:3]:  # finance paid the first two
            row[4] = "yes"
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        assert await _upload(ada, out.getvalue().encode()) == ""
        page = await ada.get("/admin/payments")
        assert "2 marked paid" in page.text
    assert await _statuses(app) == [
        PaymentStatus.PAID,
        PaymentStatus.PAID,
        PaymentStatus.APPROVED,
        PaymentStatus.DECLINED,
    ]


async def test_any_bad_row_marks_nothing_and_each_problem_is_listed_by_row(app: App) -> None:
    await _world(app)
    async with signed_in(app, "ada@example.org") as ada:
        text = await _upload(
            ada,
            _file(
                [
                    ["LL000001", "25.00", "Approved", "", "yes"],  # fine on its own
                    ["LL000099", "", "", "", "yes"],  # nobody's
                    ["LL000004", "3.00", "", "", "yes"],  # declined
                    ["LL000002", "9.99", "", "", "yes"],  # not what the ledger says
                    ["LL000001", "25.00", "", "", "yes"],  # the same payment twice
                ]
            ),
        )
        assert "There is a problem" in text and "Nothing was marked paid" in text
        for row, words in ((3, "LL000099"), (4, "declined"), (5, "£9.99"), (6, "twice")):
            assert f'id="paid_file-row-{row}"' in text and words in text
    assert PaymentStatus.PAID not in await _statuses(app)


async def test_malformed_files_are_refused_with_nothing_marked(app: App) -> None:
    await _world(app)
    async with signed_in(app, "ada@example.org") as ada:
        cases = [
            (b"\x89PNG\r\n\x1a\n\x00\xff", "not a CSV file"),
            (b"", "empty"),
            (b"ref,money\nLL000001,25.00\n", "reference column and a paid column"),
            (b"reference,paid\n" + b"LL000001,yes\n" * 160_000, "too big"),
            (b"reference,paid\nLL000001,no\n", "No row says yes"),
        ]
        for content, words in cases:
            text = await _upload(ada, content)
            assert "There is a problem" in text and words in text, words
        # Paying twice: once through the file, then the same file again.
        assert await _upload(ada, b"reference,paid\nLL000003,yes\n") == ""
        again = await _upload(ada, b"reference,paid\nLL000003,yes\n")
        assert "already paid" in again
        no_file = await ada.post("/admin/payments/paid-file", {})
        assert no_file.status_code == 400 and "Choose the finance file" in no_file.text
    assert await _statuses(app) == [
        PaymentStatus.APPROVED,
        PaymentStatus.APPROVED,
        PaymentStatus.PAID,
        PaymentStatus.DECLINED,
    ]

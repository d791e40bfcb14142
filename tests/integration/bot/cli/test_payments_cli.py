"""`linkline payments`: from an engagement's offer to "paid", by command line and by the
finance team's file, with every bad input refused in one clear line and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Invoke
from tests.integration.bot.cli.test_cli import DETAILS, _create


@pytest.fixture
def invited(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
        "consent_confirmed_on,consent_confirmed_by\n"
        "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n",
        encoding="utf-8",
    )
    assert ready("experts", "import", str(csv)).exit_code == 0
    assert _create(ready, "--publish", *DETAILS).exit_code == 0
    assert ready("engagements", "invite", "1", "EX-1").exit_code == 0
    return ready


def _ok(invoke: Invoke, *args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "None" not in result.output
    return str(result.output)


def _refused(invoke: Invoke, *args: str) -> str:
    result = invoke(*args)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output and "None" not in result.output
    return " ".join(str(result.output).split())


def test_offer_claim_approve_export_and_mark_paid_from_the_file(
    invited: Invoke, tmp_path: Path
) -> None:
    said = _ok(invited, "payments", "offer", "1", "per-session", "--amount", "25",
               "--covers", "travel,childcare", "--limit", "30")  # fmt: skip
    assert "You will be paid £25.00 for your time." in said
    assert "We pay back travel and childcare, up to £30.00 each." in said
    assert "LL000001: £6.40 owed." in _ok(
        invited, "payments", "claim", "1", "EX-1", "travel", "6.40", "--receipt"
    )
    _ok(invited, "payments", "claim", "1", "EX-1", "time", "25")
    assert "LL000001 approved." in _ok(invited, "payments", "approve", "LL000001")
    file = tmp_path / "finance.csv"
    assert "1 lines written" in _ok(invited, "payments", "export", "--out", str(file))
    text = file.read_text(encoding="utf-8")
    assert "Ana" not in text and "LL000001,6.40," in text and "LL000002" not in text
    named = tmp_path / "named.csv"
    _ok(invited, "payments", "export", "--out", str(named), "--names")
    assert "Ana" in named.read_text(encoding="utf-8")
    file.write_text(text.replace("\r\n", "\n").rstrip("\n") + "yes\n", encoding="utf-8")
    assert "1 marked paid." in _ok(invited, "payments", "paid", "--from-file", str(file))
    owed = _ok(invited, "payments", "owed")
    assert "LL000001" not in owed and "LL000002" in owed
    # The same file again would pay twice: refused, nothing changed.
    again = _refused(invited, "payments", "paid", "--from-file", str(file))
    assert "Nothing was marked paid" in again and "already paid" in again
    year = _ok(invited, "payments", "export", "--out", str(file), "--include-paid")
    assert "1 lines written" in year


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("claim", "1", "EX-1", "travel", "--", "-5"), "less than nothing"),
        (("claim", "1", "EX-1", "travel", "six pounds"), "not an amount of money"),
        (("claim", "1", "EX-1", "travel", "45000"), "more than any one payment"),
        (("claim", "1", "EX-1", "petrol", "5"), "not a purpose"),
        (("claim", "1", "EX-9", "travel", "5"), "no expert"),
        (("claim", "7", "EX-1", "travel", "5"), "no engagement 7"),
        (("approve", "LL000099"), "no payment with the reference LL000099"),
        (("paid", "banana"), "not a payment reference"),
        (("paid", "LL000001"), "must be approved before it is paid"),
        (("choice", "EX-1", "cash"), "not a method"),
        (("offer", "1", "per-hour"), "Say how much"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    invited: Invoke, args: tuple[str, ...], words: str
) -> None:
    _ok(invited, "payments", "claim", "1", "EX-1", "travel", "6.40")
    before = _ok(invited, "payments", "owed")
    assert words in _refused(invited, "payments", *args)
    assert _ok(invited, "payments", "owed") == before


def test_a_declined_line_cannot_be_paid_and_paid_cannot_be_paid_twice(invited: Invoke) -> None:
    _ok(invited, "payments", "claim", "1", "EX-1", "travel", "6.40")
    _ok(invited, "payments", "claim", "1", "EX-1", "meals", "4.00")
    _ok(invited, "payments", "decline", "LL000001", "--reason", "Taxis need agreeing first")
    assert "was declined" in _refused(invited, "payments", "paid", "LL000001")
    _ok(invited, "payments", "approve", "LL000002")
    _ok(invited, "payments", "paid", "LL000002")
    assert "already paid" in _refused(invited, "payments", "paid", "LL000002")
    tasks = _ok(invited, "tasks")
    assert "Explain a declined payment in person" in tasks


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "The file is empty"),
        ("name,amount\nAna,6.40\n", "needs a reference column and a paid column"),
        ("reference,amount,paid\nLL000077,6.40,yes\n", "row 2: There is no payment"),
        ("reference,amount,paid\nLL000001,9.99,yes\n", "row 2: LL000001 says £9.99"),
        ("reference,amount,paid\nLL000001,6.40,yes\nLL1,6.40,yes\n", "row 3: LL000001 is in"),
        ("reference,amount,paid\nLL000001,,yes\nnonsense,,yes\n", "row 3:"),
        ("reference,amount,paid\nLL000001,6.40,\n", "No row says yes"),
    ],
)
def test_a_finance_file_with_a_bad_row_marks_nothing(
    invited: Invoke, tmp_path: Path, content: str, words: str
) -> None:
    _ok(invited, "payments", "claim", "1", "EX-1", "travel", "6.40")
    _ok(invited, "payments", "approve", "LL000001")
    file = tmp_path / "back.csv"
    file.write_text(content, encoding="utf-8")
    assert words in _refused(invited, "payments", "paid", "--from-file", str(file))
    assert "Approved, waiting to be paid" in _ok(invited, "payments", "owed")


def test_a_yearly_statement_is_a_pdf_of_what_was_paid(invited: Invoke, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    _ok(invited, "payments", "claim", "1", "EX-1", "travel", "6.40")
    _ok(invited, "payments", "approve", "LL000001")
    _ok(invited, "payments", "paid", "LL000001")
    _ok(invited, "payments", "choice", "EX-1", "bank-transfer", "--note", "prefers mornings")
    out = tmp_path / "statement.pdf"
    year = str(datetime.now(UTC).year)
    said = _ok(invited, "payments", "statement", "EX-1", year, "--out", str(out))
    assert "(£6.40)" in said
    assert out.read_bytes().startswith(b"%PDF")
    assert "not a year" in _refused(invited, "payments", "statement", "EX-1", "1066", "--out",
                                    str(out))  # fmt: skip


def test_sending_a_statement_goes_only_where_details_are_safe(invited: Invoke) -> None:
    from datetime import UTC, datetime

    year = str(datetime.now(UTC).year)
    assert "--out FILE" in _refused(invited, "payments", "statement", "EX-1", year)
    # EX-1 has text messages only, not agreed safe for details: a task, not a message.
    said = " ".join(_ok(invited, "payments", "statement", "EX-1", year, "--send").split())
    assert "no safe way to send it" in said and "task" in said
    assert "not a year" in _refused(invited, "payments", "statement", "EX-1", "1066", "--send")

"""`linkline demo` tells the whole story without network or credentials."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from bot.cli.common import console
from bot.cli.main import app

pytestmark = pytest.mark.slow


def test_the_demo_shows_sent_held_suppressed_and_the_24_hour_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    # The shared console read its width when first imported, perhaps by another test.
    monkeypatch.setattr(console, "_width", 240)
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "held until Thursday 19 March at 6pm" in text  # Fin's evening-only window
    assert "they said no" in text  # Fin declined: never chased
    assert "Phone about a cancellation" in text and "go to the venue" in text
    assert "would not arrive in time" in text  # no letter that cannot arrive
    check_in = next((out / "outbox" / "email").glob("*check_in*.eml"))
    email = BytesParser(policy=policy.default).parsebytes(check_in.read_bytes())
    body = email.get_body(("plain",))
    assert body is not None and "Jo, covering for Sam" in body.get_content()
    assert {p.parent.name for p in (out / "outbox").rglob("*.txt")} == {"sms", "telegram"}
    pre_brief = next((out / "outbox" / "email").glob("eng1_*pre_brief*.eml"))
    parsed = BytesParser(policy=policy.default).parsebytes(pre_brief.read_bytes())
    calendar = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert calendar and calendar[0].get_param("method") == "REQUEST"  # an invitation too
    letters = list((out / "letters" / "pending").glob("*.pdf"))
    assert letters and "Dev" in PdfReader(letters[0]).pages[0].extract_text()
    assert "Traceback" not in text and "WARNING" not in text  # no library's warnings
    # A pass skipped while the last one runs is by design, not a line for a person.
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]
    # The story's rows (a day and time, or a table's row) name channels in our words.
    story = [line for line in text.splitlines() if re.match(r"(\w{3} \d\d \w{3} |│)", line)]
    raw = [line for line in story if re.search(r"\b(sms|telegram|phone):", line)]  # stored values
    routed = [line for line in story if "text message: preferred channel" in line]
    assert routed and raw == [], raw
    assert "make demo-serve" not in text and f"linkline demo-serve --out {out}" in text
    # Ana's pre-brief text promised the details; they went by email, and the promise shows kept.
    assert "The full details" in text and "Sent by email" in text
    assert list((out / "outbox" / "email").glob("*exp1_details*.eml"))
    # Her worrying reply got the support lines as numbers, with no service named by text.
    answer = [line for line in text.splitlines() if "answered:" in line]
    assert any("116 123" in line for line in answer)
    assert not any("Samaritans" in line or "Helpline" in line for line in answer)
    # A short conversation: Ana writes back, and Jo answers through the gate, previewed.
    assert 'Ana texts back: "Thanks for ringing. Feeling a bit better now."' in text
    assert "preview: They wrote to us by text message, so the answer goes the same way." in text
    assert "lock screen: Glad you're feeling a bit better, Ana." in text
    talk = text[text.index("The conversation with Ana") :]
    assert talk.index("Thanks for ringing") < talk.index("Written by staff, Jo Reid")
    written = list((out / "outbox" / "sms").glob("*written*"))
    assert written and "I'll ring again on Friday" in written[0].read_text(encoding="utf-8")
    # The paid journey: Ana's time and fares paid, and her (discreet) text says only that.
    assert "LL000001: Time for Ana" in text and "£25.00, paid" in text and "£6.40, paid" in text
    paid_text = next((out / "outbox" / "sms").glob("*exp1_payment_sent*.txt")).read_text()
    assert "We have sent what we owed you for Thursday" in paid_text and "£" not in paid_text


def test_the_demo_never_deletes_a_folder_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--out", str(precious)])
    assert result.exit_code == 2
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"

"""Accounts and privacy from the command line: the first administrator, passwords, locks,
a subject access file and erasure."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot.cli.common import open_app
from bot.cli.main import app
from bot.services.staff.sign_in import SignInOutcome, sign_in
from store.models import Expert
from tests.cli_runner import Invoke

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
)


def _with_input(text: str, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), input=text, catch_exceptions=False)


def _try(email: str, password: str) -> SignInOutcome:
    async def go() -> SignInOutcome:
        async with open_app() as built:
            tried = await sign_in(
                built.sessions,
                email,
                password,
                passwords=built.passwords,
                now=built.clock.now(),
                client="192.0.2.1",
            )
            return tried.outcome

    return asyncio.run(go())


def test_the_first_administrator_is_created_with_a_password_and_can_sign_in(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    made = _with_input(
        "three random words here\n",
        *("staff", "create", "Alex Morgan", "--email", "alex@example.org", "--admin"),
        "--password-stdin",
    )
    assert made.exit_code == 0, made.output
    assert "(administrator)" in made.output
    assert _try("alex@example.org", "three random words here") is SignInOutcome.SIGNED_IN


def test_a_weak_password_is_refused_and_nobody_is_created(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    refused = _with_input(
        "short\n", "staff", "create", "Alex", "--email", "alex@example.org", "--password-stdin"
    )
    assert refused.exit_code == 1 and "at least 12 characters" in refused.output
    assert "alex@example.org" not in cli("staff", "list").output


def test_a_password_with_their_email_in_it_is_one_clear_line_not_a_traceback(
    ready: Invoke,
) -> None:
    assert ready("staff", "create", "Morven", "--email", "morven@example.org").exit_code == 0
    refused = _with_input(
        "morven horse battery staple\n",
        "staff",
        "password",
        "morven@example.org",
        "--password-stdin",
    )
    assert refused.exit_code == 1
    assert "Do not use your email address" in refused.output
    assert "Traceback" not in refused.output
    assert _try("morven@example.org", "morven horse battery") is SignInOutcome.NO_PASSWORD


@pytest.mark.parametrize(
    "typed",
    ["", "\n", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\n", "a" * 400 + "\n"],
)
def test_malformed_passwords_on_standard_input_are_refused_plainly(
    ready: Invoke, typed: str
) -> None:
    refused = _with_input(typed, "staff", "password", "sam@example.org", "--password-stdin")
    assert refused.exit_code == 1 and "that password will not do" in refused.output
    assert "Traceback" not in refused.output
    assert _try("sam@example.org", "anything at all here") is SignInOutcome.NO_PASSWORD


@pytest.fixture
def at_a_terminal(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a person were typing: the runner feeds the hidden prompts from its input."""
    from bot.cli import staff

    assert cli("db", "upgrade").exit_code == 0
    assert cli("staff", "create", "Morven", "--email", "morven@example.org").exit_code == 0
    monkeypatch.setattr(staff, "at_a_terminal", lambda: True)


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_a_short_password_is_explained_and_asked_again() -> None:
    made = _with_input(
        "short\nshort\nthree random words here\nthree random words here\n",
        *("staff", "create", "Alex Morgan", "--email", "alex@example.org", "--admin"),
    )
    assert made.exit_code == 0, made.output
    assert "Use at least 12 characters" in made.output and "Try another" in made.output
    assert _try("alex@example.org", "three random words here") is SignInOutcome.SIGNED_IN


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_a_weak_new_password_is_asked_again_not_a_traceback() -> None:
    typed = "morven horse battery\n" * 2 + "password1234\n" * 2 + "a new pass phrase\n" * 2
    set_it = _with_input(typed, "staff", "password", "morven@example.org")
    assert set_it.exit_code == 0, set_it.output
    assert "Do not use your email address" in set_it.output
    assert "too easy to guess" in set_it.output
    assert "Traceback" not in set_it.output and "New password set" in set_it.output
    assert _try("morven@example.org", "a new pass phrase") is SignInOutcome.SIGNED_IN


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_two_different_passwords_are_asked_again() -> None:
    typed = "three random words here\nthree random words hear\n" + "one two three four\n" * 2
    made = _with_input(typed, "staff", "create", "Alex", "--email", "alex@example.org")
    assert made.exit_code == 0, made.output
    assert _try("alex@example.org", "one two three four") is SignInOutcome.SIGNED_IN


def test_without_a_terminal_the_account_waits_for_a_password(ready: Invoke) -> None:
    # `ready` made Sam with no terminal and no --password-stdin
    assert _try("sam@example.org", "anything at all here") is SignInOutcome.NO_PASSWORD
    set_it = _with_input(
        "sam's new pass phrase\n", "staff", "password", "sam@example.org", "--password-stdin"
    )
    assert set_it.exit_code == 0 and "New password set" in set_it.output
    assert _try("sam@example.org", "sam's new pass phrase") is SignInOutcome.SIGNED_IN
    missing = _with_input("x\n", "staff", "password", "nobody@example.org", "--password-stdin")
    assert missing.exit_code == 1


def test_unlock_lets_a_locked_out_person_try_again(ready: Invoke) -> None:
    _with_input(
        "sam's new pass phrase\n", "staff", "password", "sam@example.org", "--password-stdin"
    )
    for _ in range(5):
        _try("sam@example.org", "a wrong guess, sorry")
    assert _try("sam@example.org", "sam's new pass phrase") is SignInOutcome.LOCKED
    unlocked = ready("staff", "unlock", "sam@example.org")
    assert unlocked.exit_code == 0 and "can sign in again" in unlocked.output
    assert _try("sam@example.org", "sam's new pass phrase") is SignInOutcome.SIGNED_IN


@pytest.fixture
def ana(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    made = _with_input(
        "three random words here\n",
        *("staff", "create", "Alex Morgan", "--email", "alex@example.org", "--admin"),
        "--password-stdin",
    )
    assert made.exit_code == 0
    return ready


def test_a_subject_access_file_is_readable_and_only_by_its_owner(
    ana: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "ex-1.html"
    done = ana("privacy", "export", "EX-1", "--out", str(out))
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert "Ana" in text and "+447123456789" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = ana("privacy", "export", "EX-1", "--out", str(out))
    assert again.exit_code != 0  # never overwrites without --force
    unknown = ana("privacy", "export", "EX-9", "--out", str(tmp_path / "x.html"))
    assert unknown.exit_code != 0


def _experts() -> int:
    async def go() -> int:
        async with open_app() as built, built.sessions() as session:
            return int(await session.scalar(select(func.count(Expert.id))) or 0)

    return asyncio.run(go())


def test_erasure_needs_an_administrator_and_yes(ana: Invoke) -> None:
    by_worker = ana("privacy", "erase", "EX-1", "--by", "sam@example.org", "--yes")
    assert by_worker.exit_code != 0 and _experts() == 1
    unconfirmed = ana("privacy", "erase", "EX-1", "--by", "alex@example.org")
    assert unconfirmed.exit_code != 0 and _experts() == 1
    erased = ana("privacy", "erase", "EX-1", "--by", "alex@example.org", "--yes")
    assert erased.exit_code == 0, erased.output
    assert _experts() == 0

"""Moving an expert to Telegram from the command line: link, consent, then preference."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli.common import open_app
from bot.services.experts.telegram_links import LinkOutcome, redeem
from tests.cli_runner import Invoke

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
)


@pytest.fixture
def ana(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    return ready


def _tap_the_link(code: str, chat_id: str = "424242") -> LinkOutcome:
    """Ana presses Start in Telegram: the webhook hands the code over."""

    async def go() -> LinkOutcome:
        async with open_app() as built, built.sessions.begin() as session:
            result = await redeem(
                session, cipher=built.cipher, chat_id=chat_id, code=code, now=built.clock.now()
            )
            return result.outcome

    return asyncio.run(go())


def test_an_expert_moves_to_telegram_once_linked_and_a_person_confirmed_it(ana: Invoke) -> None:
    early = ana("experts", "consent", "EX-1", "telegram", "allow", "--by", "sam@example.org")
    assert early.exit_code == 1 and "telegram-link EX-1" in early.output
    refused = ana("experts", "channels", "EX-1", "telegram")
    assert refused.exit_code == 1 and "no consent is recorded for telegram" in refused.output

    link = ana("experts", "telegram-link", "EX-1")
    code = re.search(r"/start ([A-Za-z0-9_-]+)", link.output)
    assert code is not None, link.output
    assert _tap_the_link(code.group(1)) is LinkOutcome.LINKED

    allowed = ana("experts", "consent", "EX-1", "telegram", "allow", "--by", "sam@example.org")
    assert allowed.exit_code == 0, allowed.output
    moved = ana("experts", "channels", "EX-1", "telegram", "--fallback", "sms")
    assert moved.exit_code == 0 and "telegram then sms" in moved.output
    listed = ana("experts", "list").output
    assert "telegram" in listed

    withdrawn = ana("experts", "consent", "EX-1", "sms", "withdraw", "--by", "sam@example.org")
    assert withdrawn.exit_code == 0 and "Nothing more goes to EX-1 by sms" in withdrawn.output


SAM = ("--by", "sam@example.org")


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("experts", "consent", "EX-1", "pigeon", "allow", *SAM), 2, "not a channel"),
        (("experts", "consent", "EX-1", "sms", "maybe", *SAM), 2, "allow or withdraw"),
        (("experts", "consent", "EX-9", "sms", "allow", *SAM), 1, "no expert"),
        (("experts", "consent", "EX-1", "sms", "allow", "--by", "x@example.org"), 1, "no member"),
        (("experts", "consent", "EX-1", "sms", "allow", *SAM, "--on", "5/1/26"), 2, "2026"),
        (("experts", "channels", "EX-1", "sms", "--fallback", "fax"), 2, "not a channel"),
    ],
)
def test_consent_mistakes_get_a_clear_error(
    ana: Invoke, args: tuple[str, ...], code: int, says: str
) -> None:
    result = ana(*args)
    assert result.exit_code == code, result.output
    assert says in result.output

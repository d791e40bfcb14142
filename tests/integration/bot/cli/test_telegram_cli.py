"""`linkline telegram` and `linkline experts telegram-link`, run as an administrator or link
worker would, against the fake Bot API on loopback.

The fake runs in the test's event loop, and each command runs its own ``asyncio.run``, so
commands that talk to Telegram run in a worker thread (``asyncio.to_thread``) while the
fake keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import Result

from bot.bootstrap import build_app
from bot.cli.common import local
from bot.services.experts.telegram_links import LinkOutcome, redeem
from bot.settings import Settings
from store.models import ContactPoint, TelegramLink
from tests.cli_runner import Invoke
from tests.fakes.telegram import FakeTelegram

PUBLIC_URL = "https://linkline.example.org"
WEBHOOK_URL = "https://linkline.example.org/webhooks/telegram"
SECRET = "s3cret_webhook-token-0123456789abcdef"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as running:
        yield running


@pytest.fixture
def configured(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> FakeTelegram:
    """Everything set-webhook needs, pointed at the fake."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    return fake


async def _run(cli: Invoke, *args: str) -> Result:
    return await asyncio.to_thread(cli, *args)


def _never_shown(result: Result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.output
    assert "Traceback" not in result.output


# --- make-secret ----------------------------------------------------------------------


def test_make_secret_prints_a_fresh_secret_that_settings_accept(cli: Invoke) -> None:
    first, second = cli("telegram", "make-secret"), cli("telegram", "make-secret")
    assert first.exit_code == 0, first.output
    secret = first.stdout.strip()
    assert secret != second.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
    settings = Settings(_env_file=None, telegram_webhook_secret=secret)  # type: ignore[call-arg]
    assert settings.telegram_webhook_secret is not None
    assert "TELEGRAM_WEBHOOK_SECRET" in first.stderr and "set-webhook" in first.stderr


# --- set-webhook ----------------------------------------------------------------------


async def test_set_webhook_points_telegram_at_our_address_with_the_secret(
    cli: Invoke, configured: FakeTelegram
) -> None:
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 0, result.output
    webhook = configured.webhook
    assert webhook is not None
    assert webhook.url == WEBHOOK_URL
    assert webhook.secret_token == SECRET
    assert webhook.allowed_updates == ["message", "callback_query"]
    assert webhook.drop_pending_updates is False  # people's messages are kept
    assert (
        f"Telegram accepted the webhook: messages and button presses now go to {WEBHOOK_URL}"
        in (result.stdout)
    )
    _never_shown(result, configured.token, SECRET)


async def test_the_token_and_secret_stay_out_of_the_logs(
    cli: Invoke, configured: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await _run(cli, "telegram", "set-webhook")).exit_code == 0
    assert (await _run(cli, "telegram", "webhook-info")).exit_code == 0
    assert "setWebhook" in caplog.text  # the library did log the calls, not their content
    assert configured.token not in caplog.text and SECRET not in caplog.text


async def test_set_webhook_can_drop_what_telegram_is_holding(
    cli: Invoke, configured: FakeTelegram
) -> None:
    configured.pending_update_count = 4
    result = await _run(cli, "telegram", "set-webhook", "--drop-pending")
    assert result.exit_code == 0, result.output
    assert configured.webhook is not None and configured.webhook.drop_pending_updates
    assert "Waiting to be delivered: 0 updates" in result.stdout


@pytest.mark.parametrize(
    "unset", ["TELEGRAM_BOT_TOKEN", "LINKLINE_PUBLIC_URL", "TELEGRAM_WEBHOOK_SECRET"]
)
async def test_set_webhook_names_the_missing_setting(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch, unset: str
) -> None:
    monkeypatch.delenv(unset)
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 2
    assert f"{unset} is not set" in result.stderr
    assert configured.calls == []  # Telegram was never asked
    _never_shown(result, configured.token, SECRET)


def test_set_webhook_with_nothing_set_names_every_missing_setting(cli: Invoke) -> None:
    result = cli("telegram", "set-webhook")
    assert result.exit_code == 2
    assert (
        "TELEGRAM_BOT_TOKEN, LINKLINE_PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET are not set"
        in result.stderr
    )
    assert "make-secret" in result.stderr


async def test_set_webhook_refuses_an_address_that_is_not_https(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", "http://linkline.example.org")
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 2
    assert "LINKLINE_PUBLIC_URL must start with https://" in result.stderr
    assert configured.calls == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_WEBHOOK_SECRET", "too short"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081/bot"),
    ],
)
async def test_a_malformed_setting_is_named_without_a_traceback(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 2
    assert name in result.stderr
    assert configured.calls == []
    _never_shown(result, configured.token, "too short")


async def test_telegram_refusing_the_address_is_a_clear_error(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", "https://linkline.example.org:8080")
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 1
    assert "could not set the webhook: Telegram refused it" in result.stderr
    assert "ports 80, 88, 443 or 8443" in result.stderr
    assert configured.webhook is None
    _never_shown(result, configured.token, SECRET)


async def test_a_wrong_token_says_which_setting_to_check_and_never_shows_it(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "999999:not-the-right-token"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 1
    assert "check TELEGRAM_BOT_TOKEN" in result.stderr
    assert configured.webhook is None
    _never_shown(result, wrong, SECRET)


async def test_telegram_out_of_reach_is_a_clear_error(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{closed}")
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 1
    assert f"could not reach http://127.0.0.1:{closed} (TELEGRAM_API_BASE_URL)" in result.stderr
    _never_shown(result, configured.token, SECRET)


async def test_a_server_error_from_telegram_is_a_clear_error(
    cli: Invoke, configured: FakeTelegram
) -> None:
    configured.fail_next_call("setWebhook", "unavailable")
    result = await _run(cli, "telegram", "set-webhook")
    assert result.exit_code == 1
    assert "could not set the webhook" in result.stderr
    _never_shown(result, configured.token, SECRET)


# --- webhook-info ---------------------------------------------------------------------


async def test_webhook_info_shows_the_address_what_waits_and_the_last_error(
    cli: Invoke, configured: FakeTelegram
) -> None:
    assert (await _run(cli, "telegram", "set-webhook")).exit_code == 0
    configured.pending_update_count = 3
    configured.webhook_error("Wrong response from the webhook: 403 Forbidden")
    result = await _run(cli, "telegram", "webhook-info")
    assert result.exit_code == 0, result.output
    assert f"Webhook: {WEBHOOK_URL}" in result.stdout
    assert "Sends: message, callback_query" in result.stdout
    assert "Waiting to be delivered: 3 updates" in result.stdout
    assert "Wrong response from the webhook: 403 Forbidden" in result.stdout
    _never_shown(result, configured.token, SECRET)


async def test_webhook_info_without_a_webhook_says_how_to_set_one(
    cli: Invoke, configured: FakeTelegram
) -> None:
    result = await _run(cli, "telegram", "webhook-info")
    assert result.exit_code == 0, result.output
    assert "Webhook: none" in result.stdout and "set-webhook" in result.stdout
    assert "Last delivery error: none" in result.stdout


async def test_webhook_info_notices_a_webhook_elsewhere_than_the_settings_say(
    cli: Invoke, configured: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await _run(cli, "telegram", "set-webhook")).exit_code == 0
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", "https://new.example.org")
    result = await _run(cli, "telegram", "webhook-info")
    assert "https://new.example.org/webhooks/telegram" in result.stdout
    assert "set-webhook" in result.stdout


def test_webhook_info_needs_the_token(cli: Invoke) -> None:
    result = cli("telegram", "webhook-info")
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr


# --- experts telegram-link ------------------------------------------------------------

HEADER = (
    "ref,preferred_name,link_worker,time_zone,preferred_channel,phone,consent_sms,"
    "consent_telegram,consent_confirmed_on,consent_confirmed_by"
)
ANA = (
    "A1,Ana Morrison,sam@example.org,America/New_York,sms,07123 456789,yes,,2026-01-05,"
    "sam@example.org"
)
BEN = "B2,Ben Adeyemi,sam@example.org,,sms,07123 456790,yes,yes,2026-01-05,sam@example.org"


@pytest.fixture
def experts(ready: Invoke, tmp_path: Path) -> Invoke:
    """Ana (New York time, no Telegram consent) and Ben (Telegram consent recorded)."""
    path = tmp_path / "experts.csv"
    path.write_text(f"{HEADER}\n{ANA}\n{BEN}\n", encoding="utf-8")
    result = ready("experts", "import", str(path))
    assert result.exit_code == 0, result.output
    return ready


def _link_code(output: str) -> str:
    found = re.search(r"https://t\.me/\w+\?start=([A-Za-z0-9_-]+)", output)
    assert found, output
    return found.group(1)


async def test_a_link_the_expert_can_tap_that_links_their_chat(
    experts: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@LinklineBot")
    result = await _run(experts, "experts", "telegram-link", "A1")
    assert result.exit_code == 0, result.output
    pattern = r"^https://t\.me/LinklineBot\?start=[A-Za-z0-9_-]{32,64}$"
    assert re.search(pattern, result.stdout, re.MULTILINE)
    code = _link_code(result.stdout)
    app = await build_app(Settings())
    try:
        async with app.sessions.begin() as session:
            stored = await session.scalar(select(TelegramLink))
            assert stored is not None
            # The expiry is shown on the expert's own clock.
            shown = local(stored.expires_at, "America/New_York")
            assert f"until {shown} (America/New_York time)" in result.stdout
            outcome = await redeem(
                session, cipher=app.cipher, chat_id="5550001", code=code, now=app.clock.now()
            )
            assert outcome.outcome is LinkOutcome.LINKED
            point = await session.scalar(
                select(ContactPoint).where(
                    ContactPoint.lookup_hash == app.cipher.blind_index("5550001")
                )
            )
            assert point is not None and point.value == "5550001"
    finally:
        await app.aclose()


def test_without_telegram_consent_it_warns_but_still_makes_the_link(
    experts: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "LinklineBot")
    ana = experts("experts", "telegram-link", "A1")
    assert ana.exit_code == 0
    assert "no Telegram consent is recorded for expert A1" in ana.stderr
    assert "Messages will not go by Telegram until a person" in ana.stderr
    ben = experts("experts", "telegram-link", "B2")
    assert ben.exit_code == 0 and "consent" not in ben.stderr


async def test_the_bot_name_comes_from_telegram_when_not_configured(
    experts: Invoke, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
    result = await _run(experts, "experts", "telegram-link", "B2")
    assert result.exit_code == 0, result.output
    assert "https://t.me/linkline_test_bot?start=" in result.stdout
    assert "getMe" in fake.calls
    _never_shown(result, fake.token)


def test_without_a_bot_name_it_gives_the_words_to_send(experts: Invoke) -> None:
    result = experts("experts", "telegram-link", "B2")
    assert result.exit_code == 0, result.output
    assert re.search(r"^/start [A-Za-z0-9_-]{32,64}$", result.stdout, re.MULTILINE)
    assert "t.me" not in result.stdout
    assert "Set TELEGRAM_BOT_USERNAME" in result.stdout


async def test_a_new_link_stops_the_old_one(
    experts: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "LinklineBot")
    old = _link_code((await _run(experts, "experts", "telegram-link", "B2")).stdout)
    by_sam = await _run(experts, "experts", "telegram-link", "B2", "--by", "sam@example.org")
    new = _link_code(by_sam.stdout)
    app = await build_app(Settings())
    try:
        async with app.sessions.begin() as session:
            now = app.clock.now()
            refused = await redeem(session, cipher=app.cipher, chat_id="1", code=old, now=now)
            linked = await redeem(session, cipher=app.cipher, chat_id="1", code=new, now=now)
        assert (refused.outcome, linked.outcome) == (LinkOutcome.UNKNOWN, LinkOutcome.LINKED)
    finally:
        await app.aclose()


def test_an_unknown_expert_or_staff_member_is_a_one_line_error(experts: Invoke) -> None:
    nobody = experts("experts", "telegram-link", "Z9")
    assert nobody.exit_code == 1 and "no expert with id or ref 'Z9'" in nobody.stderr
    stranger = experts("experts", "telegram-link", "B2", "--by", "kim@example.org")
    assert stranger.exit_code == 1 and "kim@example.org" in stranger.stderr

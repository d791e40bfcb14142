"""Credentials decide live or dry-run, and the start-up lines say the same thing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channel_setup import build_channels
from bot.settings import Settings
from channels.base import OutgoingMessage
from channels.dryrun import DryRunChannel
from channels.letter import LetterChannel
from channels.mail import EmailChannel
from channels.sms import SmsChannel
from channels.telegram import TelegramChannel
from scheduling.clock import SystemClock
from store.enums import Channel
from tests.fakes.telegram import FakeTelegram


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


def test_without_credentials_everything_but_letters_is_dry_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    channels = build_channels(settings, SystemClock().now)
    assert all(
        isinstance(channels[c], DryRunChannel)
        for c in (Channel.SMS, Channel.TELEGRAM, Channel.EMAIL)
    )
    assert isinstance(channels[Channel.LETTER], LetterChannel)
    assert {m.channel: m.live for m in settings.channel_modes()} == {
        c: c in (Channel.LETTER, Channel.PHONE) for c in Channel
    }


def test_with_credentials_each_channel_is_live(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="token",
        twilio_from_number="+447700900000",
        telegram_bot_token="123:abc",
        smtp_host="127.0.0.1",
        smtp_from="sam@example.org",
        public_url="https://linkline.example.org",
    )
    channels = build_channels(settings, SystemClock().now)
    assert isinstance(channels[Channel.SMS], SmsChannel)
    assert isinstance(channels[Channel.TELEGRAM], TelegramChannel)
    assert isinstance(channels[Channel.EMAIL], EmailChannel)
    sms = channels[Channel.SMS]
    assert isinstance(sms, SmsChannel)
    assert sms.config.status_callback_url == ("https://linkline.example.org/webhooks/twilio/status")
    assert all(m.live for m in settings.channel_modes())


def test_dry_run_email_writes_the_real_message_as_an_eml(tmp_path: Path) -> None:
    channels = build_channels(_settings(tmp_path), SystemClock().now)
    email = channels[Channel.EMAIL]
    assert isinstance(email, DryRunChannel) and email.suffix == ".eml"


def _live_email(tmp_path: Path, **values: object) -> EmailChannel:
    settings = _settings(tmp_path, smtp_host="mail.example.org", smtp_from="a@b.test", **values)
    email = build_channels(settings, SystemClock().now)[Channel.EMAIL]
    assert isinstance(email, EmailChannel)
    return email


def test_live_email_requires_starttls_by_default(tmp_path: Path) -> None:
    """Never "STARTTLS if offered": a stripped offer must not send mail and password in clear."""
    config = _live_email(tmp_path).config
    assert config.start_tls is True and config.use_tls is False


def test_port_465_uses_implicit_tls_instead(tmp_path: Path) -> None:
    config = _live_email(tmp_path, smtp_port=465).config
    assert config.use_tls is True and config.start_tls is False


def test_only_an_explicit_setting_allows_a_relay_without_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    config = _live_email(tmp_path).config
    assert config.start_tls is False and config.use_tls is False


def test_twilio_api_base_url_reaches_the_sms_channel_and_the_start_up_line(
    tmp_path: Path,
) -> None:
    settings = _settings(
        tmp_path,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="token",
        twilio_from_number="+447700900000",
        twilio_api_base_url="http://127.0.0.1:8080",
    )
    sms = build_channels(settings, SystemClock().now)[Channel.SMS]
    assert isinstance(sms, SmsChannel)
    assert sms.config.api_base_url == "http://127.0.0.1:8080"
    line = {m.channel: m.line() for m in settings.channel_modes()}[Channel.SMS]
    assert "via http://127.0.0.1:8080 (TWILIO_API_BASE_URL)" in line
    assert _settings(tmp_path).twilio_api_base_url is None  # unset means Twilio itself


async def test_telegram_api_base_url_sends_through_that_server(tmp_path: Path) -> None:
    """TELEGRAM_API_BASE_URL (a local Bot API server or a test double) really gets the
    messages: the channel built from settings sends to the fake, not to Telegram."""
    async with FakeTelegram() as fake:
        settings = _settings(
            tmp_path, telegram_bot_token=fake.token, telegram_api_base_url=fake.url + "/"
        )
        telegram = build_channels(settings, SystemClock().now)[Channel.TELEGRAM]
        assert isinstance(telegram, TelegramChannel)
        try:
            receipt = await telegram.send(
                OutgoingMessage(
                    idempotency_key="setup:1",
                    channel=Channel.TELEGRAM,
                    to="5550001",
                    body="Hello from Sam",
                )
            )
        finally:
            await telegram.aclose()
        assert [(s.chat_id, s.text) for s in fake.ledger] == [("5550001", "Hello from Sam")]
        assert receipt.provider_id.startswith("tg-")
        line = {m.channel: m.line() for m in settings.channel_modes()}[Channel.TELEGRAM]
        assert f"via {fake.url} (TELEGRAM_API_BASE_URL)" in line


def test_without_telegram_api_base_url_the_channel_talks_to_telegram(tmp_path: Path) -> None:
    settings = _settings(tmp_path, telegram_bot_token="123:abc")
    telegram = build_channels(settings, SystemClock().now)[Channel.TELEGRAM]
    assert isinstance(telegram, TelegramChannel)
    assert telegram.config.base_url == "https://api.telegram.org/bot"

"""Settings become channels: live where credentials are set, dry-run files otherwise.

This is the only place that knows which adapter serves which channel, so the start-up
lines (``Settings.channel_modes``) and what is really built cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.settings import Settings
from channels.base import MessageChannel
from channels.dryrun import DryRunChannel
from channels.letter import LetterChannel, LetterConfig
from channels.mail import EmailChannel, EmailConfig, dry_run_formatter
from channels.registry import DEFAULT_LIMITS, ChannelRegistry
from channels.sms import SmsChannel, SmsConfig
from channels.telegram import TELEGRAM_BASE_URL, TelegramChannel, TelegramConfig
from store.enums import Channel

Now = Callable[[], datetime]


def _secret(value: object) -> str:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value or "")


def _sms(settings: Settings, now: Now) -> MessageChannel:
    config = SmsConfig(
        account_sid=settings.twilio_account_sid or "",
        auth_token=_secret(settings.twilio_auth_token),
        from_number=settings.twilio_from_number or "",
        status_callback_url=settings.twilio_status_url,
        api_base_url=settings.twilio_api_base_url,
    )
    return SmsChannel(config, now=now)


def _telegram(settings: Settings, now: Now) -> MessageChannel:
    config = TelegramConfig(
        bot_token=_secret(settings.telegram_bot_token),
        base_url=telegram_base_url(settings.telegram_api_base_url),
    )
    return TelegramChannel(config, now=now)


def telegram_base_url(api_base_url: str | None) -> str:
    """What PTB's ``Bot(base_url=...)`` needs: the server, then ``/bot`` (PTB appends the
    token). Telegram itself when TELEGRAM_API_BASE_URL is unset."""
    if not api_base_url:
        return TELEGRAM_BASE_URL
    return f"{api_base_url.rstrip('/')}/bot"


def _email(settings: Settings, now: Now) -> MessageChannel:
    implicit_tls = settings.smtp_port == 465
    config = EmailConfig(
        host=settings.smtp_host or "",
        from_address=settings.smtp_from or "",
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=_secret(settings.smtp_password) or None,
        use_tls=implicit_tls,
        # Required, never "if offered": a server (or someone in between) that does not
        # offer STARTTLS must not get the mail and password in clear. Switched off only by
        # SMTP_STARTTLS=false, for a local relay.
        start_tls=settings.smtp_starttls and not implicit_tls,
    )
    return EmailChannel(config, clock=now)


_LIVE: dict[Channel, Callable[[Settings, Now], MessageChannel]] = {
    Channel.SMS: _sms,
    Channel.TELEGRAM: _telegram,
    Channel.EMAIL: _email,
}


def _dry_run(settings: Settings, channel: Channel, now: Now) -> MessageChannel:
    folder = settings.resolved_outbox_dir / channel.value
    if channel is Channel.EMAIL:
        sender = settings.smtp_from or "linkline@localhost"
        return DryRunChannel(
            channel,
            folder,
            DEFAULT_LIMITS[channel],
            formatter=dry_run_formatter(sender, now),
            suffix=".eml",
        )
    return DryRunChannel(channel, folder, DEFAULT_LIMITS[channel])


def build_channels(settings: Settings, now: Now) -> ChannelRegistry:
    built: list[MessageChannel] = [
        _LIVE[channel](settings, now)
        if settings.is_live(channel)
        else _dry_run(settings, channel, now)
        for channel in _LIVE
    ]
    letters = LetterConfig(
        folder=settings.letters_dir,
        return_address=settings.letter_return_address,
        time_zone=settings.default_time_zone,
    )
    built.append(LetterChannel(letters, clock=now))
    return ChannelRegistry(built)

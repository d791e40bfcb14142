"""Settings become channels: live where credentials are set, dry-run files otherwise.

This is the only place that knows which adapter serves which channel, so the start-up
lines (``Settings.channel_modes``) and what is really built cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.settings import Settings
from channels.base import MessageChannel
from channels.dryrun import DryRunChannel
from channels.letter import LetterChannel, LetterConfig
from channels.mail import EmailChannel, EmailConfig, dry_run_formatter
from channels.mail_in import ImapConfig
from channels.registry import DEFAULT_LIMITS, ChannelRegistry
from channels.sms import SmsChannel, SmsConfig
from channels.telegram import TELEGRAM_BASE_URL, TelegramChannel, TelegramConfig
from store.enums import Channel
from store.errors import CannotStart

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


def _email(settings: Settings, now: Now, *, id_key: bytes | None = None) -> MessageChannel:
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
        connections=settings.smtp_connections,
        reply_to=settings.mail_reply_to,
        id_key=id_key,
    )
    return EmailChannel(config, clock=now)


def build_mailbox(settings: Settings) -> ImapConfig | None:
    """The replies mailbox to read, None when none is set; a mailbox that would be read
    without TLS, or half set, stops start-up with the fix."""
    try:
        parts = settings.mailbox()
    except ValueError as exc:
        raise CannotStart(f"Linkline cannot read email replies: {exc}.") from None
    if parts is None:
        return None
    return ImapConfig(
        host=parts.host,
        port=parts.port,
        username=parts.user,
        password=parts.password,
        tls=parts.tls,
        mailbox=parts.folder,
    )


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


def build_channels(
    settings: Settings, now: Now, *, mail_key: bytes | None = None
) -> ChannelRegistry:
    """``mail_key`` keys email Message-IDs (and so the reply tokens) to this installation."""
    live: dict[Channel, Callable[[Settings, Now], MessageChannel]] = {
        **_LIVE,
        Channel.EMAIL: partial(_email, id_key=mail_key),
    }
    built: list[MessageChannel] = [
        live[channel](settings, now)
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

"""Settings from environment variables and an optional ``.env`` file.

The names are the ones operators already know from each provider's own docs. A channel
with missing credentials runs in dry-run and says so at start-up, so nobody believes a
message went out when it was only written to a file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from bot.settings.addresses import public_url_problem
from bot.settings.mail_in import MailInSettings
from scheduling.rules.plan import PlanOffsets
from store.enums import Channel


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(MailInSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(Path("var"), validation_alias=_env("LINKLINE_DATA_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    secret_key: SecretStr | None = Field(None, validation_alias=_env("LINKLINE_SECRET_KEY"))
    public_url: str | None = Field(None, validation_alias=_env("LINKLINE_PUBLIC_URL"))
    outbox_dir: Path | None = Field(None, validation_alias=_env("LINKLINE_OUTBOX_DIR"))
    default_time_zone: str = Field(
        "Europe/London", validation_alias=_env("LINKLINE_DEFAULT_TIME_ZONE")
    )

    dispatch_interval_seconds: float = Field(
        5.0, gt=0, le=300, validation_alias=_env("LINKLINE_DISPATCH_INTERVAL_SECONDS")
    )
    dispatch_batch_size: int = Field(
        50, ge=1, le=1000, validation_alias=_env("LINKLINE_DISPATCH_BATCH_SIZE")
    )
    lease_seconds: int = Field(120, ge=10, le=3600, validation_alias=_env("LINKLINE_LEASE_SECONDS"))
    # How often a worker settles messages left behind by a stopped one (expired leases).
    sweep_interval_seconds: float = Field(
        60.0, ge=1, le=3600, validation_alias=_env("LINKLINE_SWEEP_INTERVAL_SECONDS")
    )

    pre_brief_days: int = Field(7, ge=1, le=60, validation_alias=_env("LINKLINE_PRE_BRIEF_DAYS"))
    reminder_days: int = Field(1, ge=1, le=30, validation_alias=_env("LINKLINE_REMINDER_DAYS"))
    check_in_days: int = Field(1, ge=0, le=30, validation_alias=_env("LINKLINE_CHECK_IN_DAYS"))
    de_brief_days: int = Field(3, ge=1, le=30, validation_alias=_env("LINKLINE_DE_BRIEF_DAYS"))
    # The frequency cap per expert over pre-briefs, reminders, feedback and pastoral
    # messages; cancellations, time changes, check-ins and de-briefs are exempt.
    cap_per_day: int = Field(1, ge=1, le=5, validation_alias=_env("LINKLINE_CAP_PER_DAY"))
    cap_per_week: int = Field(3, ge=1, le=14, validation_alias=_env("LINKLINE_CAP_PER_WEEK"))
    # A channel whose tries failed this much (in %) over the last day shows as "Failing".
    channel_failing_percent: int = Field(
        50, ge=1, le=100, validation_alias=_env("LINKLINE_CHANNEL_FAILING_PERCENT")
    )
    # The shortest gap between two pastoral messages; a contact level more frequent than
    # this is refused when it is saved.
    pastoral_min_days: int = Field(
        7, ge=7, le=90, validation_alias=_env("LINKLINE_PASTORAL_MIN_DAYS")
    )
    # Message texts and replies are deleted this long after they are settled; tasks and
    # the audit trail are kept.
    retention_days: int = Field(90, ge=7, le=3650, validation_alias=_env("LINKLINE_RETENTION_DAYS"))
    # After this long with no sign of life from an active expert, their link worker gets a
    # task to check in (a person, never an automatic message).
    silence_days: int = Field(90, ge=14, le=365, validation_alias=_env("LINKLINE_SILENCE_DAYS"))

    twilio_account_sid: str | None = Field(None, validation_alias=_env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: SecretStr | None = Field(None, validation_alias=_env("TWILIO_AUTH_TOKEN"))
    twilio_from_number: str | None = Field(None, validation_alias=_env("TWILIO_FROM_NUMBER"))
    # Only for a Twilio-compatible gateway or a local test double; leave unset for Twilio.
    twilio_api_base_url: str | None = Field(None, validation_alias=_env("TWILIO_API_BASE_URL"))
    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    # The bot's @username, for t.me links; asked of Telegram when unset and the bot is live.
    telegram_bot_username: str | None = Field(
        None, validation_alias=_env("TELEGRAM_BOT_USERNAME"), max_length=64
    )
    # Only for a local Bot API server or a test double; leave unset for Telegram.
    telegram_api_base_url: str | None = Field(None, validation_alias=_env("TELEGRAM_API_BASE_URL"))
    # How long a Telegram link code works before the link worker must make a new one.
    telegram_link_hours: int = Field(
        72, ge=1, le=336, validation_alias=_env("LINKLINE_TELEGRAM_LINK_HOURS")
    )
    # A reply that needs a person and has not been acknowledged by then alerts the cover
    # (or an administrator): working days for an ordinary reply, minutes for a worrying one.
    ack_working_days: int = Field(1, ge=1, le=5, validation_alias=_env("LINKLINE_ACK_WORKING_DAYS"))
    urgent_ack_minutes: int = Field(
        60, ge=5, le=240, validation_alias=_env("LINKLINE_URGENT_ACK_MINUTES")
    )
    # Free text gets one line back ("Sam will read this"), at most once a day; false: nothing.
    answer_free_text: bool = Field(True, validation_alias=_env("LINKLINE_ANSWER_FREE_TEXT"))
    # The number people ring or text to reach their link worker, printed in letters and
    # emails so every reader has a way to answer and to ask for another format.
    reply_phone: str | None = Field(
        None, max_length=30, validation_alias=_env("LINKLINE_REPLY_PHONE")
    )
    # The web pages sign someone out after this long without a page load, and after
    # this many hours whatever they do.
    session_idle_minutes: int = Field(
        30, ge=5, le=480, validation_alias=_env("LINKLINE_SESSION_IDLE_MINUTES")
    )
    session_max_hours: int = Field(
        12, ge=1, le=24, validation_alias=_env("LINKLINE_SESSION_MAX_HOURS")
    )
    # Reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or
    # networks (10.0.0.5, 10.1.0.0/16). None by default: the client's own address counts,
    # so nobody can pick the address the sign-in throttle sees.
    trusted_proxies: str = Field(
        "", validation_alias=_env("LINKLINE_TRUSTED_PROXIES"), max_length=2000
    )
    smtp_host: str | None = Field(None, validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_username: str | None = Field(None, validation_alias=_env("SMTP_USERNAME"))
    smtp_password: SecretStr | None = Field(None, validation_alias=_env("SMTP_PASSWORD"))
    smtp_from: str | None = Field(None, validation_alias=_env("SMTP_FROM"))
    # STARTTLS is required on every port but 465 (implicit TLS). Only a local relay without
    # TLS should ever set SMTP_STARTTLS=false: mail and the password would cross in clear.
    smtp_starttls: bool = Field(True, validation_alias=_env("SMTP_STARTTLS"))
    # Connections kept open to the mail server, each carrying one email at a time. Some
    # providers allow only a few at once per account: lower it for them.
    smtp_connections: int = Field(4, ge=1, le=20, validation_alias=_env("SMTP_CONNECTIONS"))
    letter_return_address: str = Field(
        "", validation_alias=_env("LINKLINE_LETTER_RETURN_ADDRESS"), max_length=200
    )

    @field_validator(
        "database_url",
        "public_url",
        "twilio_account_sid",
        "twilio_from_number",
        "twilio_api_base_url",
        "telegram_api_base_url",
        "telegram_bot_username",
        "smtp_host",
        "smtp_username",
        "smtp_from",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"LINKLINE_TRUSTED_PROXIES: {item!r} is not an address or network; "
                    "list them separated by commas, like 10.0.0.5,10.1.0.0/16"
                ) from None
        return ",".join(items)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item for item in self.trusted_proxies.split(",") if item]

    @field_validator("twilio_api_base_url", "telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Only scheme, host and port are used, so anything else is a mistake to catch now."""
        if value is None:
            return None
        text = value.strip()
        try:
            parts = urlsplit(text)
            _ = parts.port  # raises on a port that is not a number
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.username
        ):
            name, provider = _BASE_URLS[info.field_name or ""]
            raise ValueError(
                f"{name} must be an http:// or https:// address with just a host "
                "and port (for example http://127.0.0.1:8080). It is only for a "
                f"{provider}-compatible gateway or a local test double: leave it unset to use "
                f"{provider}"
            )
        return text.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """Twilio signs the exact address it calls, so a wrong one turns every webhook away
        without a word; and plain http would send staff cookies in clear."""
        if value is None:
            return None
        text = value.strip()
        problem = public_url_problem(text)
        if problem:
            raise ValueError(
                f"LINKLINE_PUBLIC_URL must start with https:// and be the address Twilio and "
                f"Telegram reach this service at, such as https://linkline.example.org "
                f"(http:// only for localhost or 127.0.0.1): {problem}"
            )
        return text.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts only these characters, so a bad secret fails here, not at set-up."""
        if value is None or not value.get_secret_value().strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value().strip()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 16 to 256 letters, digits, _ or -; "
                "`linkline telegram make-secret` prints a suitable one"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise ValueError(
                "TELEGRAM_BOT_USERNAME must be the bot's username as BotFather gave it, "
                "such as LinklineBot (5 to 32 letters, digits or underscores)"
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Contradictory timing settings are refused at start-up, not found at send time."""
        if self.retention_days < self.silence_days:
            raise ValueError(
                f"LINKLINE_RETENTION_DAYS ({self.retention_days}) must be at least "
                f"LINKLINE_SILENCE_DAYS ({self.silence_days}): replies are how we know "
                "someone has been in touch"
            )
        if self.cap_per_day > self.cap_per_week:
            raise ValueError(
                f"LINKLINE_CAP_PER_DAY ({self.cap_per_day}) cannot be more than "
                f"LINKLINE_CAP_PER_WEEK ({self.cap_per_week})"
            )
        try:
            self.plan_offsets()
        except ValueError as exc:
            raise ValueError(f"the contact plan settings do not fit together: {exc}") from None
        return self

    def plan_offsets(self) -> PlanOffsets:
        return PlanOffsets(
            pre_brief_days=self.pre_brief_days,
            reminder_days=self.reminder_days,
            check_in_days=self.check_in_days,
            de_brief_days=self.de_brief_days,
        ).validate()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'linkline.db'}"

    @property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def letters_dir(self) -> Path:
        return self.data_dir / "letters"

    @property
    def twilio_status_url(self) -> str | None:
        if not self.public_url:
            return None
        return self.public_url.rstrip("/") + "/webhooks/twilio/status"

    @property
    def telegram_webhook_url(self) -> str | None:
        if not self.public_url:
            return None
        return self.public_url.rstrip("/") + "/webhooks/telegram"

    def is_live(self, channel: Channel) -> bool:
        """A channel sends for real when every credential it needs is set."""
        if channel in (Channel.PHONE, Channel.LETTER):
            return True
        return all(_is_set(self, name) for name in _REQUIRED[channel])

    @property
    def secure_cookies(self) -> bool:
        """Session cookies only over HTTPS once the service has a public HTTPS address; on
        a laptop (http://127.0.0.1) they must work over plain HTTP."""
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"

    def channel_modes(self) -> list[ChannelMode]:
        modes = [_mode(self, channel) for channel in Channel]
        return [
            replace(mode, detail=mode.detail + self.replies_detail())
            if mode.channel is Channel.EMAIL
            else mode
            for mode in modes
        ]


@dataclass(frozen=True)
class ChannelMode:
    channel: Channel
    live: bool
    detail: str

    def line(self) -> str:
        state = "live" if self.live else "dry-run"
        return f"{self.channel.value:<9} {state:<8} {self.detail}"


_BASE_URLS = {
    "twilio_api_base_url": ("TWILIO_API_BASE_URL", "Twilio"),
    "telegram_api_base_url": ("TELEGRAM_API_BASE_URL", "Telegram"),
}

_REQUIRED: dict[Channel, tuple[str, ...]] = {
    Channel.SMS: ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"),
    Channel.TELEGRAM: ("TELEGRAM_BOT_TOKEN",),
    Channel.EMAIL: ("SMTP_HOST", "SMTP_FROM"),
}


def _mode(settings: Settings, channel: Channel) -> ChannelMode:
    outbox = settings.resolved_outbox_dir / channel.value
    if channel is Channel.PHONE:
        return ChannelMode(channel, True, "calls are tasks for the expert's link worker")
    if channel is Channel.LETTER:
        return ChannelMode(
            channel,
            True,
            f"PDF letters wait in {settings.letters_dir} for `linkline letters batch`",
        )
    missing = [name for name in _REQUIRED[channel] if not _is_set(settings, name)]
    if missing:
        return ChannelMode(
            channel, False, f"{', '.join(missing)} not set; messages are written to {outbox}"
        )
    return ChannelMode(channel, True, _LIVE_DETAIL[channel](settings))


_LIVE_DETAIL = {
    Channel.SMS: lambda s: (
        f"sending through Twilio from {s.twilio_from_number}"
        + (f" via {s.twilio_api_base_url} (TWILIO_API_BASE_URL)" if s.twilio_api_base_url else "")
        + ("" if s.public_url else "; set LINKLINE_PUBLIC_URL to get delivery reports and replies")
    ),
    Channel.TELEGRAM: lambda s: (
        "sending through the Telegram Bot API"
        + (
            f" via {s.telegram_api_base_url} (TELEGRAM_API_BASE_URL)"
            if s.telegram_api_base_url
            else ""
        )
        + (
            ""
            if s.public_url and s.telegram_webhook_secret
            else "; set LINKLINE_PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET to hear replies"
        )
    ),
    Channel.EMAIL: lambda s: f"sending through {s.smtp_host}:{s.smtp_port} as {s.smtp_from}",
}


def _is_set(settings: Settings, env_name: str) -> bool:
    value = getattr(settings, env_name.lower())
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return bool(value and str(value).strip())

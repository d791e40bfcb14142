"""Settings read the names operators already know, and say what each channel will do."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from store.engine import DatabaseError, normalise_url


def test_known_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "very-secret-token")
    monkeypatch.setenv("SMTP_PORT", "2525")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql://u@127.0.0.1/db"
    assert settings.smtp_port == 2525
    assert "very-secret-token" not in repr(settings)  # secrets masked


def test_each_channel_says_it_is_dry_run_and_why() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lines = {m.channel.value: m.line() for m in settings.channel_modes()}
    assert "dry-run" in lines["sms"] and "TWILIO_ACCOUNT_SID" in lines["sms"]
    assert "TELEGRAM_BOT_TOKEN" in lines["telegram"]
    assert "SMTP_HOST" in lines["email"]
    assert "task" in lines["phone"]


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "ninety")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("bad", ["0", "21", "many", "-1", ""])
def test_smtp_connections_outside_one_to_twenty_is_refused(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("SMTP_CONNECTIONS", bad)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert "SMTP_CONNECTIONS" in str(refused.value)


def test_smtp_connections_default_to_four() -> None:
    assert Settings(_env_file=None).smtp_connections == 4  # type: ignore[call-arg]


def test_the_default_database_is_a_local_sqlite_file() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url.endswith("var/linkline.db")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url"])
def test_unsupported_database_urls_are_refused(bad: str) -> None:
    with pytest.raises(DatabaseError):
        normalise_url(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "127.0.0.1:8080",
        "ftp://127.0.0.1",
        "http://",
        "http://127.0.0.1:port",
        "http://127.0.0.1:8080/2010-04-01",
        "https://user:secret@gateway.example.org",
    ],
)
def test_a_malformed_twilio_api_base_url_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("TWILIO_API_BASE_URL", bad)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    first = refused.value.errors()[0]  # what `linkline` prints: where, and this message
    assert first["loc"] == ("TWILIO_API_BASE_URL",)
    assert "TWILIO_API_BASE_URL must be an http:// or https:// address" in first["msg"]
    assert "leave it unset to use Twilio" in first["msg"]
    assert "secret" not in first["msg"]  # the value itself is never echoed


def test_a_blank_twilio_api_base_url_means_twilio_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_API_BASE_URL", "  ")
    assert Settings(_env_file=None).twilio_api_base_url is None  # type: ignore[call-arg]
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8080/")
    assert Settings(_env_file=None).twilio_api_base_url == "http://127.0.0.1:8080"  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LINKLINE_CHECK_IN_DAYS": "4"}, "de-brief must come after the check-in"),
        ({"LINKLINE_REMINDER_DAYS": "7"}, "reminder must come after the pre-brief"),
        ({"LINKLINE_CAP_PER_DAY": "4", "LINKLINE_CAP_PER_WEEK": "3"}, "cannot be more than"),
        ({"LINKLINE_RETENTION_DAYS": "30"}, "must be at least LINKLINE_SILENCE_DAYS"),
        ({"LINKLINE_PASTORAL_MIN_DAYS": "3"}, "greater than or equal to 7"),
        ({"LINKLINE_CAP_PER_WEEK": "lots"}, "valid integer"),
        ({"LINKLINE_CHANNEL_FAILING_PERCENT": "0"}, "greater than or equal to 1"),
        ({"LINKLINE_CHANNEL_FAILING_PERCENT": "150"}, "less than or equal to 100"),
        ({"LINKLINE_CHANNEL_FAILING_PERCENT": "half"}, "valid integer"),
    ],
)
def test_contradictory_timing_settings_stop_start_up_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)  # type: ignore[call-arg]

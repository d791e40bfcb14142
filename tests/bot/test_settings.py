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

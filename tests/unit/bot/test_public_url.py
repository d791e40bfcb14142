"""LINKLINE_PUBLIC_URL is the address Twilio signs: a wrong one must stop start-up with one
line, never turn every webhook away in silence (finding L-6)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.cli.common import settings_error_line
from bot.settings import Settings


def _settings(monkeypatch: pytest.MonkeyPatch, url: str) -> Settings:
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", url)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://linkline.example.org", "https://linkline.example.org"),
        ("https://linkline.example.org/", "https://linkline.example.org"),
        (" https://linkline.example.org:8443 ", "https://linkline.example.org:8443"),
        ("https://example.org/linkline/", "https://example.org/linkline"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_an_https_address_or_a_local_http_one_is_accepted(
    monkeypatch: pytest.MonkeyPatch, given: str, kept: str
) -> None:
    settings = _settings(monkeypatch, given)
    assert settings.public_url == kept
    assert settings.twilio_status_url == kept + "/webhooks/twilio/status"


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("linkline.example.org", "no https:// in front"),
        ("linkline.example.org/webhooks", "no https:// in front"),
        ("//linkline.example.org", "no https:// in front"),
        ("ftp://linkline.example.org", "no https:// in front"),
        ("https://", "no host name"),
        ("http://linkline.example.org", "plain http://"),
        ("http://192.168.1.20:8000", "plain http://"),
        ("https://linkline.example.org:port", "not a web address"),
        ("https://ops:hunter2@linkline.example.org", "a password"),
        ("https://linkline.example.org/?x=1", "a ?"),
        ("https://linkline.example.org/#top", "a #"),
    ],
)
def test_any_other_address_stops_start_up_with_one_line_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch, bad: str, why: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, bad)
    line = settings_error_line(refused.value)  # exactly what `linkline` prints
    assert line.startswith("LINKLINE_PUBLIC_URL must start with https://")
    assert "such as https://linkline.example.org" in line
    assert why in line
    assert "\n" not in line and "Value error" not in line
    assert "hunter2" not in line  # the value is never echoed


def test_a_blank_address_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, "  ")
    assert settings.public_url is None and settings.twilio_status_url is None


def test_only_an_https_address_turns_on_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(monkeypatch, "https://linkline.example.org").secure_cookies
    assert not _settings(monkeypatch, "http://127.0.0.1:8000").secure_cookies


def test_other_bad_settings_still_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKLINE_LEASE_SECONDS", "1")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings_error_line(refused.value).startswith(
        "setting LINKLINE_LEASE_SECONDS is not valid:"
    )

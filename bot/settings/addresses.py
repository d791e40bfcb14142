"""Checking the addresses operators paste into settings, before anything relies on them.

A public address without https makes every Twilio signature check fail silently, so a
bad one stops start-up with a sentence instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def public_url_problem(text: str) -> str | None:
    """What is wrong with a public address, in words, or None when it will do.

    The value is never echoed: a pasted address can carry a password.
    """
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "the value set is not a web address"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the value set has no https:// in front, or no host name"
    if parts.scheme == "http" and parts.hostname.lower() not in _LOCAL_HOSTS:
        return "the value set uses plain http:// for a host other people reach"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "the value set has a user name, a password, a ? or a # in it"
    return None

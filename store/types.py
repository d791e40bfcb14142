"""Column types that keep two promises: times are UTC, personal data is encrypted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from store.crypto import Cipher

_CIPHER_ATTR = "linkline_cipher"


def attach_cipher(dialect: Dialect, cipher: Cipher) -> None:
    """Bind the cipher to one engine's dialect, so no module-level key exists."""
    setattr(dialect, _CIPHER_ATTR, cipher)


def _cipher(dialect: Dialect) -> Cipher:
    cipher = getattr(dialect, _CIPHER_ATTR, None)
    if cipher is None:
        raise RuntimeError(
            "personal data cannot be read or written: this database engine has no encryption "
            "key attached (build engines with store.engine.create_engine)"
        )
    return cipher


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    SQLite has no time zone type, so values are stored as naive UTC text; refusing naive
    input stops a local wall-clock time being stored as if it were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """Personal data: encrypted on the way in, decrypted on the way out."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).decrypt(value)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # Encryption is randomised, so equality on ciphertext can never match: say so loudly.
        raise TypeError("encrypted columns cannot be compared in SQL; use the blind index")


class EncryptedList(TypeDecorator[list[str]]):
    """A short list of personal labels (access needs), encrypted as one JSON value: the
    labels say something about a person's health, so they are kept like their name."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).encrypt(json.dumps(list(value)))

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str] | None:
        if value is None:
            return None
        loaded: list[str] = json.loads(_cipher(dialect).decrypt(value))
        return loaded

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        raise TypeError("encrypted columns cannot be compared in SQL; filter after loading")

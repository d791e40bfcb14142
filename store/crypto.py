"""Encryption of personal data at rest, and keyed hashes for looking it up.

Names, contact details, addresses and reply text are encrypted with AES-256-GCM before
they reach the database, so a copied database file or backup reveals nothing. Phone
numbers, emails and chat ids are also stored as a keyed HMAC ("blind index"), so an
inbound message can be matched to a person without decrypting every row.

Both keys are derived from one secret (``LINKLINE_SECRET_KEY``) with HKDF, so operators
manage a single value. Every ciphertext carries a short key id, so a future key rotation
can decrypt old rows with the old key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.errors import CannotStart, Refused
from store.private_files import OWNER_ONLY_FOLDER, refuse_if_shared

_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class SecretKeyError(Refused):
    """The secret key is missing, malformed or not the one the data was written with."""


class DecryptionError(ValueError):
    """A stored value could not be decrypted: wrong key or tampered data."""


def generate_secret_key() -> str:
    """A new random secret, in the text form ``LINKLINE_SECRET_KEY`` expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")


def _decode_secret(secret: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(secret.strip().encode("ascii") + b"==")
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise SecretKeyError(
            "LINKLINE_SECRET_KEY is not valid: it must be the 44-character text printed by "
            "`linkline keys generate`"
        ) from exc
    if len(raw) != _KEY_BYTES:
        raise SecretKeyError(
            "LINKLINE_SECRET_KEY is not valid: it must encode 32 random bytes "
            "(make one with `linkline keys generate`)"
        )
    return raw


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=purpose).derive(
        master
    )


@dataclass(frozen=True)
class Cipher:
    """Encrypts and decrypts personal data, and makes blind-index hashes."""

    _aead: AESGCM
    _index_key: bytes
    key_id: str
    # Signs the web pages' session cookies; derived, so there is one secret to keep.
    session_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> Cipher:
        master = _decode_secret(secret)
        enc_key = _derive(master, b"linkline personal data encryption")
        index_key = _derive(master, b"linkline blind index")
        key_id = hashlib.sha256(enc_key).hexdigest()[:8]
        session_key = _derive(master, b"linkline web session signing")
        return cls(AESGCM(enc_key), index_key, key_id, session_key)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self.key_id.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{_VERSION}:{self.key_id}:{body}"

    def decrypt(self, token: str) -> str:
        try:
            version, key_id, body = token.split(":", 2)
        except ValueError as exc:
            raise DecryptionError("stored value is not in Linkline's encrypted form") from exc
        if version != _VERSION or key_id != self.key_id:
            raise DecryptionError(
                "stored value was encrypted with a different key: check LINKLINE_SECRET_KEY"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], key_id.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionError("stored value could not be decrypted (tampered?)") from exc
        return plain.decode("utf-8")

    def blind_index(self, normalised: str) -> str:
        """A keyed hash of an already-normalised value (E.164 phone, lower-case email)."""
        return hmac.new(self._index_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()

    def fingerprint(self) -> str:
        """A value stored in the database to detect a wrong key before any data is read."""
        return hmac.new(self._index_key, b"linkline key check", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LoadedKey:
    secret: str
    created_file: Path | None  # set when a new key file was written just now


def load_or_create_key(configured: str | None, key_file: Path, *, may_create: bool) -> LoadedKey:
    """Return the configured key, else the local key file, else create that file.

    A key file is only created for the embedded SQLite default (``may_create``): with a
    shared database several machines must agree on one key, so it has to be configured.
    """
    if configured:
        _decode_secret(configured)
        return LoadedKey(configured.strip(), None)
    if key_file.exists():
        # Refused, never tightened: a key others could read may already have been copied.
        refuse_if_shared(key_file, "key file")
        try:
            secret = key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretKeyError(
                f"the key file {key_file} cannot be read ({_why(exc)}): run Linkline as the "
                "account that owns it, or set LINKLINE_SECRET_KEY"
            ) from exc
        _decode_secret(secret)
        return LoadedKey(secret, None)
    if not may_create:
        raise SecretKeyError(
            "LINKLINE_SECRET_KEY is not set: a shared database needs the same key on every "
            "machine; make one with `linkline keys generate` and set it in the environment"
        )
    secret = generate_secret_key()
    try:
        key_file.parent.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret + "\n")
    except OSError as exc:
        raise CannotStart(
            f"cannot write a new key file at {key_file} ({_why(exc)}): set LINKLINE_DATA_DIR "
            "to a folder this account can write to, or set LINKLINE_SECRET_KEY"
        ) from exc
    return LoadedKey(secret, key_file)


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "it is not a key Linkline wrote"

"""Encryption keys and the blind index, as an operator meets them."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.bootstrap import App
from store.crypto import (
    Cipher,
    DecryptionError,
    SecretKeyError,
    generate_secret_key,
    load_or_create_key,
)
from store.engine import verify_key
from store.models import Meta


def test_personal_data_round_trips_and_never_appears_in_the_stored_form() -> None:
    cipher = Cipher.from_secret(generate_secret_key())
    token = cipher.encrypt("+447123456789")
    assert "447123456789" not in token
    assert cipher.decrypt(token) == "+447123456789"
    assert cipher.encrypt("same") != cipher.encrypt("same")  # randomised: no equality leaks


def test_a_different_key_cannot_read_the_data() -> None:
    token = Cipher.from_secret(generate_secret_key()).encrypt("Ana")
    with pytest.raises(DecryptionError, match="different key"):
        Cipher.from_secret(generate_secret_key()).decrypt(token)


def test_tampered_data_is_refused() -> None:
    cipher = Cipher.from_secret(generate_secret_key())
    token = cipher.encrypt("Ana")
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        cipher.decrypt(broken)


def test_blind_index_matches_the_same_number_only_under_the_same_key() -> None:
    secret = generate_secret_key()
    one, two = Cipher.from_secret(secret), Cipher.from_secret(secret)
    assert one.blind_index("+447123456789") == two.blind_index("+447123456789")
    assert one.blind_index("+447123456789") != one.blind_index("+447123456780")
    other = Cipher.from_secret(generate_secret_key())
    assert other.blind_index("+447123456789") != one.blind_index("+447123456789")


@pytest.mark.parametrize("bad", ["short", "not base64 at all!!", "A" * 10])
def test_a_malformed_key_is_refused_with_what_to_do(bad: str) -> None:
    with pytest.raises(SecretKeyError, match="linkline keys generate"):
        Cipher.from_secret(bad)


def test_without_a_key_one_is_created_readable_only_by_its_owner(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret.key"
    loaded = load_or_create_key(None, key_file, may_create=True)
    assert loaded.created_file == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = load_or_create_key(None, key_file, may_create=True)
    assert again.secret == loaded.secret and again.created_file is None


def test_a_shared_database_needs_a_configured_key(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="LINKLINE_SECRET_KEY is not set"):
        load_or_create_key(None, tmp_path / "secret.key", may_create=False)


@pytest.mark.db_contract
async def test_workers_starting_together_on_a_new_database_all_accept_the_key(app: App) -> None:
    """`linkline run --workers 3` on a fresh database: every worker records or reads the
    key's fingerprint; none fails because another recorded it first."""
    async with app.engine.begin() as conn:
        await conn.execute(delete(Meta))
    results = await asyncio.gather(
        *(verify_key(app.sessions, app.cipher) for _ in range(4)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    with pytest.raises(SecretKeyError, match="not the key this database was created with"):
        await verify_key(app.sessions, Cipher.from_secret(generate_secret_key()))

"""Passwords: argon2id at the library's recommended cost, rules people can follow, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from bot.bootstrap import App
from bot.services.staff import sign_in as accounts
from bot.services.staff.sign_in import (
    PasswordError,
    SignInOutcome,
    check_password_rules,
    set_password,
    sign_in,
)
from store.models import AuditEvent, Staff
from tests.builders import add_staff


def test_the_real_hasher_is_argon2id_at_the_recommended_cost() -> None:
    # The test suite swaps in a cheap hasher (tests/conftest.py); this is what ships.
    params = extract_parameters(accounts.production_hasher().hash("three random words"))
    assert params.type is Type.ID
    default = PasswordHasher()
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )
    assert params.memory_cost >= 65536  # 64 MiB


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
        ("x" * 300, "at most 256"),
        ("sam.taylor likes tea", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, why: str) -> None:
    with pytest.raises(PasswordError, match=why):
        check_password_rules(password, email="sam.taylor@example.org")


async def test_a_password_is_stored_only_as_an_argon2id_hash(app: App) -> None:
    async with app.sessions.begin() as session:
        staff = await add_staff(session, now=app.clock.now())
        await set_password(
            session,
            staff,
            "three random words",
            passwords=app.passwords,
            now=app.clock.now(),
            actor="t",
        )
    async with app.sessions() as session:
        stored = await session.get(Staff, staff.id)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert "three random words" not in stored.password_hash


async def test_lockout_lasts_fifteen_minutes_and_is_audited_without_the_password(
    app: App,
) -> None:
    async with app.sessions.begin() as session:
        staff = await add_staff(session, now=app.clock.now())
        await set_password(
            session,
            staff,
            "three random words",
            passwords=app.passwords,
            now=app.clock.now(),
            actor="t",
        )
    for _ in range(accounts.LOCK_AFTER):
        await sign_in(
            app.sessions,
            "sam@example.org",
            "wrong words here",
            passwords=app.passwords,
            now=app.clock.now(),
            client="192.0.2.7",
        )
    locked = await sign_in(
        app.sessions,
        "sam@example.org",
        "three random words",
        passwords=app.passwords,
        now=app.clock.now(),
        client="192.0.2.7",
    )
    assert locked.outcome is SignInOutcome.LOCKED
    app.clock.advance(accounts.LOCK_FOR + timedelta(seconds=1))  # type: ignore[attr-defined]
    again = await sign_in(
        app.sessions,
        "SAM@example.org ",
        "three random words",
        passwords=app.passwords,
        now=app.clock.now(),
        client="192.0.2.7",
    )
    assert again.outcome is SignInOutcome.SIGNED_IN
    async with app.sessions() as session:
        from sqlalchemy import select

        events = list(await session.scalars(select(AuditEvent)))
    assert {"staff.sign_in_failed", "staff.locked", "staff.signed_in"} <= {e.action for e in events}
    assert all("wrong words" not in str(e.data) for e in events)

"""Signing in: argon2id password hashes, lockout after repeated failures, revocable sessions.

Verifying a hash costs about 0.1 s of CPU on purpose, so it runs in a thread and never
stalls the event loop that also sends messages and answers webhooks. The hasher is a
`Passwords` built by the wiring (`bot.bootstrap`) and passed in, so importing this module
costs nothing and tests can hand in a cheap one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.staff.accounts import find_staff
from store import audit
from store.errors import Refused
from store.models import Staff

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 copes with more; a limit stops a megabyte "password" costing CPU
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


def production_hasher() -> PasswordHasher:
    """argon2id, t=3, m=64 MiB, p=4: the library's defaults, which follow RFC 9106."""
    return PasswordHasher()


class Passwords:
    """Hashing and checking passwords with one hasher, in a thread.

    The dummy hash is verified against when nobody has that email, so a wrong address
    takes as long as a wrong password and sign-in cannot be used to find out who works
    here. It is made on first need: making it costs 0.2 s and 64 MiB, which a command
    that never signs anyone in should not pay.
    """

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored: str, password: str) -> bool:
        return await asyncio.to_thread(self._check, stored, password)

    async def verify_nobody(self, password: str) -> None:
        """Spend the time a real check would, for an account that does not exist."""
        if self._dummy is None:
            self._dummy = await self.hash("linkline: no such account")
        await self.verify(self._dummy, password)

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


# Passwords people reach for first; length alone would let these through.
_COMMON = frozenset(
    {
        "password1234",
        "password12345",
        "passwordpassword",
        "123456789012",
        "qwertyuiopas",
        "letmein12345",
        "welcome12345",
        "linkline1234",
        "changeme1234",
    }
)


class PasswordError(Refused):
    """A password that will not be accepted; the message says why, in plain words."""


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # unknown email or wrong password: the page says the same for both
    LOCKED = "locked"
    NO_PASSWORD = "no_password"  # the account exists but no password was ever set


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    staff: Staff | None = None
    locked_until: datetime | None = None


def check_password_rules(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"Use at least {MIN_LENGTH} characters, such as three random words")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"Use at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        raise PasswordError("This password is too easy to guess; try three random words")
    if email and email.split("@")[0].lower() in lowered and len(email.split("@")[0]) >= 4:
        raise PasswordError("Do not use your email address in your password")


async def set_password(
    session: AsyncSession,
    staff: Staff,
    password: str,
    *,
    passwords: Passwords,
    now: datetime,
    actor: str,
) -> None:
    """Also signs out every existing session of theirs and lifts a lockout."""
    check_password_rules(password, email=staff.email)
    staff.password_hash = await passwords.hash(password)
    staff.session_version += 1
    staff.failed_logins, staff.locked_until = 0, None
    audit.record(
        session,
        actor=actor,
        action="staff.password_set",
        entity="staff",
        entity_id=staff.id,
        at=now,
    )


async def sign_in(
    session: AsyncSession, email: str, password: str, *, passwords: Passwords, now: datetime
) -> SignIn:
    staff = await find_staff(session, email.strip().lower()) if "@" in email else None
    if staff is None or not staff.active:
        await passwords.verify_nobody(password[:MAX_LENGTH])
        return SignIn(SignInOutcome.WRONG)
    if staff.locked_until is not None and staff.locked_until > now:
        return SignIn(SignInOutcome.LOCKED, locked_until=staff.locked_until)
    if staff.password_hash is None:
        await passwords.verify_nobody(password[:MAX_LENGTH])
        return SignIn(SignInOutcome.NO_PASSWORD)
    if len(password) > MAX_LENGTH or not await passwords.verify(staff.password_hash, password):
        return _failed(session, staff, now)
    if passwords.needs_rehash(staff.password_hash):
        staff.password_hash = await passwords.hash(password)
    staff.failed_logins, staff.locked_until, staff.last_login_at = 0, None, now
    audit.record(
        session,
        actor=staff.email,
        action="staff.signed_in",
        entity="staff",
        entity_id=staff.id,
        at=now,
    )
    return SignIn(SignInOutcome.SIGNED_IN, staff)


def _failed(session: AsyncSession, staff: Staff, now: datetime) -> SignIn:
    staff.failed_logins += 1
    audit.record(
        session,
        actor="sign-in page",
        action="staff.sign_in_failed",
        entity="staff",
        entity_id=staff.id,
        at=now,
        failures=staff.failed_logins,
    )
    if staff.failed_logins >= LOCK_AFTER:
        staff.locked_until, staff.failed_logins = now + LOCK_FOR, 0
        audit.record(
            session,
            actor="sign-in page",
            action="staff.locked",
            entity="staff",
            entity_id=staff.id,
            at=now,
        )
        return SignIn(SignInOutcome.LOCKED, locked_until=staff.locked_until)
    return SignIn(SignInOutcome.WRONG)


async def unlock(session: AsyncSession, staff: Staff, *, now: datetime, actor: str) -> None:
    staff.failed_logins, staff.locked_until = 0, None
    audit.record(
        session, actor=actor, action="staff.unlocked", entity="staff", entity_id=staff.id, at=now
    )

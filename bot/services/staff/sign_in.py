"""Signing in: argon2id password hashes, lockout after repeated failures, per account and
per client address.

Verifying a hash costs about 0.1 s of CPU on purpose, so it runs in a small pool of its
own threads, a few at a time: a flood of sign-ins queues there and never stalls the event
loop that also sends messages, answers webhooks and /healthz. The hasher is a
`Passwords` built by the wiring (`bot.bootstrap`) and passed in, so importing this module
costs nothing and tests can hand in a cheap one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.staff.accounts import find_staff
from bot.services.staff.sessions import client_must_wait, end_all_sessions, record_client_failure
from store import audit
from store.errors import Refused
from store.models import Staff

_T = TypeVar("_T")

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 copes with more; a limit stops a megabyte "password" costing CPU
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# Hashes at once: half the cores, so the web server and the sender always have one left.
HASHING_THREADS = max(1, (os.cpu_count() or 2) // 2)
# Sign-ins waiting for a hash beyond this are turned away at once rather than queued.
MOST_WAITING = 64


class HashingBusy(Refused):
    """Too many sign-ins are waiting for a password check; try again shortly."""


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

    def __init__(self, hasher: PasswordHasher, *, threads: int = HASHING_THREADS) -> None:
        self.hasher = hasher
        self._dummy: str | None = None
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="passwords")
        self._waiting = 0

    async def _in_pool(self, work: Callable[[], _T]) -> _T:
        if self._waiting >= MOST_WAITING:
            raise HashingBusy("Signing in is busy just now. Wait a minute and try again")
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self._waiting -= 1

    async def hash(self, password: str) -> str:
        return await self._in_pool(lambda: self.hasher.hash(password))

    async def verify(self, stored: str, password: str) -> bool:
        return await self._in_pool(lambda: self._check(stored, password))

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
    # Unknown email, wrong password, a locked account or one with no password yet: all
    # answer alike, after the same work, so sign-in cannot tell anyone who works here.
    WRONG = "wrong"
    CLIENT_WAITS = "client_waits"  # too many wrong sign-ins from this client address


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
    await end_all_sessions(session, staff.id, now=now)
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
    session: AsyncSession,
    email: str,
    password: str,
    *,
    passwords: Passwords,
    now: datetime,
    client: str,
) -> SignIn:
    """Only failures count, against the account and against the client address; a locked
    account still pays for a full check, so its answer and its timing give nothing away."""
    if await client_must_wait(session, client, now=now):
        return SignIn(SignInOutcome.CLIENT_WAITS)
    staff = await find_staff(session, email.strip().lower()) if "@" in email else None
    locked = staff is not None and staff.locked_until is not None and staff.locked_until > now
    if staff is None or not staff.active or staff.password_hash is None or locked:
        await passwords.verify_nobody(password[:MAX_LENGTH])
        await record_client_failure(session, client, now=now)
        if staff is not None and staff.active and not locked:
            return _failed(session, staff, now)
        return SignIn(SignInOutcome.WRONG)
    if len(password) > MAX_LENGTH or not await passwords.verify(staff.password_hash, password):
        await record_client_failure(session, client, now=now)
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
        return SignIn(SignInOutcome.WRONG, locked_until=staff.locked_until)
    return SignIn(SignInOutcome.WRONG)


async def unlock(session: AsyncSession, staff: Staff, *, now: datetime, actor: str) -> None:
    staff.failed_logins, staff.locked_until = 0, None
    audit.record(
        session, actor=actor, action="staff.unlocked", entity="staff", entity_id=staff.id, at=now
    )

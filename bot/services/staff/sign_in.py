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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.staff.accounts import find_staff
from bot.services.staff.sessions import (
    client_must_wait,
    end_all_sessions,
    record_client_failure,
    start_session,
)
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
    """Hashing and checking passwords with one hasher, in its own small pool of threads;
    beyond ``MOST_WAITING`` queued checks a sign-in is turned away at once (`HashingBusy`).

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
    # Unknown email or wrong password, a locked account, one with no password yet: each
    # costs the same work and the page answers all three alike, so sign-in cannot tell
    # an outsider who works here. Only the service and the command line tell them apart.
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PASSWORD = "no_password"
    CLIENT_WAITS = "client_waits"  # too many wrong sign-ins from this client address


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    staff: Staff | None = None
    locked_until: datetime | None = None
    token: str | None = None  # the new session's id, for the cookie only


@dataclass(frozen=True)
class _Claim:
    """What the first, read-only look at the account found."""

    staff_id: int | None
    stored: str | None  # the hash to check against; None: check the dummy and fail


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
    sessions: async_sessionmaker[AsyncSession],
    email: str,
    password: str,
    *,
    passwords: Passwords,
    now: datetime,
    client: str,
) -> SignIn:
    """Only failures count, against the account and against the client address; a locked
    account still pays for a full check, so its answer and its timing give nothing away.

    The password is checked with no database connection held: a flood of sign-ins waits
    for the hashing pool, never for a connection /healthz or the sender needs. A
    successful sign-in starts a server-side session in the same transaction as it is
    recorded.
    """
    async with sessions() as db:
        if await client_must_wait(db, client, now=now):
            return SignIn(SignInOutcome.CLIENT_WAITS)
        claim = await _claim(db, email, now)
    too_long = len(password) > MAX_LENGTH
    if claim.stored is None or too_long:
        await passwords.verify_nobody(password[:MAX_LENGTH])
        right = False
    else:
        right = await passwords.verify(claim.stored, password)
    fresh = (
        await passwords.hash(password)
        if right and claim.stored is not None and passwords.needs_rehash(claim.stored)
        else None
    )
    async with sessions.begin() as db:
        staff = await db.get(Staff, claim.staff_id) if claim.staff_id is not None else None
        usable = staff is not None and staff.active and staff.password_hash == claim.stored
        if not right or staff is None or not usable:
            await record_client_failure(db, client, now=now)
            if staff is None or not staff.active:
                return SignIn(SignInOutcome.WRONG)
            if staff.locked_until is not None and staff.locked_until > now:
                return SignIn(SignInOutcome.LOCKED, locked_until=staff.locked_until)
            if staff.password_hash is None:
                return SignIn(SignInOutcome.NO_PASSWORD)
            return _failed(db, staff, now)
        if fresh is not None:
            staff.password_hash = fresh
        staff.failed_logins, staff.locked_until, staff.last_login_at = 0, None, now
        audit.record(
            db,
            actor=staff.email,
            action="staff.signed_in",
            entity="staff",
            entity_id=staff.id,
            at=now,
        )
        token = await start_session(db, staff, client=client, now=now)
        return SignIn(SignInOutcome.SIGNED_IN, staff, token=token)


async def _claim(db: AsyncSession, email: str, now: datetime) -> _Claim:
    staff = await find_staff(db, email.strip().lower()) if "@" in email else None
    if staff is None:
        return _Claim(None, None)
    locked = staff.locked_until is not None and staff.locked_until > now
    usable = staff.active and staff.password_hash is not None and not locked
    return _Claim(staff.id, staff.password_hash if usable else None)


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

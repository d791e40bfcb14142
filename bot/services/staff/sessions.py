"""Server-side sessions for the staff pages, and the sign-in throttle per client address.

The browser holds a random session id; the database holds only its SHA-256, so the table
cannot be used to sign in. A session ends for good (sign-out, new password, role change,
closed account, or an administrator ending it) by setting ``ended_at``: a copied cookie
stops working at once. Idle and absolute limits are checked here against the injected
clock, never trusted to the cookie.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import SignInFailure, Staff, StaffSession

# Wrong passwords from one client address before it must wait: enough for a whole office
# mistyping, few enough that guessing across many accounts is slow.
CLIENT_FAILURES = 20
CLIENT_WINDOW = timedelta(minutes=15)
_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    most: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def coarse_address(host: str) -> str:
    """An address with its last part hidden (IPv4 /24, IPv6 /48), for people to read."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    if address.version == 4:
        return str(ipaddress.ip_network(f"{address}/24", strict=False).network_address)[:-1] + "x"
    network = ipaddress.ip_network(f"{address}/48", strict=False)
    return f"{network.network_address}/48"


async def start_session(session: AsyncSession, staff: Staff, *, client: str, now: datetime) -> str:
    """A new session for them; returns the id to put in the cookie (never stored). Their
    sessions unused for a week are deleted here: nothing an administrator needs to see."""
    await session.execute(
        delete(StaffSession).where(
            StaffSession.staff_id == staff.id, StaffSession.last_used_at < now - _KEPT
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            staff_id=staff.id,
            id_hash=_digest(token),
            started_at=now,
            last_used_at=now,
            client=coarse_address(client),
        )
    )
    await session.flush()
    return token


async def live_staff(
    session: AsyncSession, token: str | None, *, limits: Limits, now: datetime
) -> Staff | None:
    """Who this session id belongs to, if it is still live; marks it used now. A session
    past its idle or absolute limit never works again, even if used at once after."""
    if not token or len(token) > 200:
        return None
    row = await session.scalar(
        select(StaffSession).where(
            StaffSession.id_hash == _digest(token), StaffSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    if now - row.last_used_at >= limits.idle or now - row.started_at >= limits.most:
        row.ended_at = now
        return None
    staff = await session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        row.ended_at = now
        return None
    row.last_used_at = now
    return staff


async def end_session(session: AsyncSession, token: str | None, *, now: datetime) -> None:
    """Sign-out: this session id stops working, wherever a copy of it is."""
    if token and len(token) <= 200:
        await session.execute(
            update(StaffSession)
            .where(StaffSession.id_hash == _digest(token), StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )


async def end_all_sessions(
    session: AsyncSession, staff_id: int, *, now: datetime, keep: int | None = None
) -> int:
    """Every live session of theirs ends; returns how many did."""
    query = (
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def live_sessions(
    session: AsyncSession, staff_id: int, *, limits: Limits, now: datetime
) -> list[StaffSession]:
    """Their sessions that still work, newest first, for an administrator to see."""
    rows = await session.scalars(
        select(StaffSession)
        .where(
            StaffSession.staff_id == staff_id,
            StaffSession.ended_at.is_(None),
            StaffSession.last_used_at > now - limits.idle,
            StaffSession.started_at > now - limits.most,
        )
        .order_by(StaffSession.started_at.desc(), StaffSession.id.desc())
    )
    return list(rows)


async def end_one_session(
    session: AsyncSession, staff: Staff, session_id: int, *, now: datetime, actor: str
) -> bool:
    """An administrator ends one of someone's sessions; False when it had already ended."""
    row = await session.get(StaffSession, session_id)
    if row is None or row.staff_id != staff.id or row.ended_at is not None:
        return False
    row.ended_at = now
    audit.record(
        session,
        actor=actor,
        action="staff.session_ended",
        entity="staff",
        entity_id=staff.id,
        at=now,
    )
    return True


def client_key(host: str) -> str:
    """The throttle's key for a client: a hash, so the table holds no addresses."""
    return hashlib.sha256(f"sign-in client {host}".encode()).hexdigest()


async def client_must_wait(session: AsyncSession, host: str, *, now: datetime) -> bool:
    """Whether this client address has had too many wrong sign-ins in the window.
    Only failures count: a busy office signing in correctly is never held up."""
    count = await session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.client == client_key(host), SignInFailure.at > now - CLIENT_WINDOW
        )
    )
    return int(count or 0) >= CLIENT_FAILURES


async def record_client_failure(session: AsyncSession, host: str, *, now: datetime) -> None:
    """Counts one wrong sign-in; failures older than the window expire here, one by one
    rather than all at once, so a flood of addresses cannot reset anyone's count."""
    await session.execute(delete(SignInFailure).where(SignInFailure.at <= now - CLIENT_WINDOW))
    session.add(SignInFailure(client=client_key(host), at=now))

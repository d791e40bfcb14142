"""Claiming due messages under a lease, so each is worked on by one worker at a time.

The claim is committed before any provider is called. On PostgreSQL several workers
claim disjoint rows with FOR UPDATE SKIP LOCKED; SQLite ignores FOR UPDATE, and is made
safe by taking the write lock at BEGIN (see store.engine).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload

from scheduling.rules.questions import CONTEXT_DAYS, QUESTION_PURPOSES
from store.changed import rows_changed
from store.enums import AttemptOutcome, MessageStatus, Purpose
from store.models import DeliveryAttempt, Engagement, Expert, Message, Staff

_PENDING = literal_column("message.status") == literal_column(f"'{MessageStatus.PENDING.value}'")


async def claim_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
) -> list[int]:
    async with sessions.begin() as session:
        ids = list(
            await session.scalars(
                select(Message.id)
                # A literal, not a parameter, so PostgreSQL always matches the partial
                # index's predicate, even with a generic plan.
                .where(_PENDING, Message.next_attempt_at <= now)
                .order_by(Message.next_attempt_at, Message.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            await session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(
                    status=MessageStatus.SENDING,
                    claimed_by=worker,
                    lease_until=now + lease,
                    updated_at=now,
                )
            )
    return ids


async def renew_lease(
    session: AsyncSession, message_id: int, worker: str, now: datetime, lease: timedelta
) -> bool:
    """Confirm this worker still holds the message, and hold it a while longer.

    One conditional UPDATE: if the lease already ran out (a long batch, a slow provider),
    no row matches and the worker leaves the message alone, because the sweeper or
    another worker may have it by now. On PostgreSQL the row stays locked until commit.
    """
    renewed = await rows_changed(
        session,
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.SENDING,
            Message.claimed_by == worker,
            Message.lease_until > now,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False),
    )
    return renewed == 1


async def expired_leases(session: AsyncSession, now: datetime, limit: int = 200) -> list[Message]:
    """Messages whose worker stopped mid-way (crash, kill): the sweeper decides their fate."""
    rows = await session.scalars(
        select(Message)
        .where(Message.status == MessageStatus.SENDING, Message.lease_until < now)
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def load_message(session: AsyncSession, message_id: int) -> Message | None:
    """One message with everything the rules need, fresh from the database.

    Single rows (expert, link worker, cover, engagement, lead, invitation) come in one
    joined query; only the lists use extra queries. Each query is a thread hop on SQLite,
    so this keeps a send to a handful of round trips.
    """
    expert = joinedload(Message.expert)
    engagement = joinedload(Message.engagement)
    return await session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .options(
            expert.joinedload(Expert.link_worker).joinedload(Staff.cover),
            engagement.joinedload(Engagement.lead),
            joinedload(Message.invitation),
            selectinload(Message.attempts_log),
            expert.selectinload(Expert.consents),
            expert.selectinload(Expert.contact_points),
            expert.selectinload(Expert.windows),
        )
        .execution_options(populate_existing=True)
    )


async def load_for_result(session: AsyncSession, message_id: int) -> Message | None:
    """Just what recording a provider's answer needs (attempts, contact points).

    This runs after every send; the full picture from :func:`load_message` is loaded only
    on the rare path that hands the message to a person.
    """
    return await session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .options(
            selectinload(Message.attempts_log),
            joinedload(Message.expert).selectinload(Expert.contact_points),
        )
        .execution_options(populate_existing=True)
    )


_COUNTED = (AttemptOutcome.IN_PROGRESS, AttemptOutcome.ACCEPTED, AttemptOutcome.UNKNOWN)


async def recent_capped(session: AsyncSession, expert_id: int, now: datetime) -> list[datetime]:
    """When this expert was handed messages the cap counts, in the last week.

    The expert's row is locked first (PostgreSQL), so two workers deciding on two messages
    for the same person take turns and cannot both slip under the cap. Attempts count from
    the moment they are recorded, before the provider call.
    """
    await session.execute(select(Expert.id).where(Expert.id == expert_id).with_for_update())
    rows = await session.scalars(
        select(DeliveryAttempt.started_at)
        .join(Message, DeliveryAttempt.message_id == Message.id)
        .where(
            Message.expert_id == expert_id,
            Message.purpose.in_([p for p in Purpose if p.capped]),
            DeliveryAttempt.outcome.in_(_COUNTED),
            DeliveryAttempt.started_at > now - timedelta(days=7),
        )
    )
    return list(rows)


def newest_question(asked: Any, since: Any) -> Select[tuple[int]]:
    """The newest message (``asked``: ``Message`` or an alias of it) that asked them
    something and went out since ``since`` (a value or a bound parameter): the one a reply
    is taken to answer. One definition for both ways a reply finds it."""
    return (
        select(asked.id)
        .where(
            asked.purpose.in_(QUESTION_PURPOSES),
            asked.status.in_((MessageStatus.SENT, MessageStatus.DELIVERED)),
            asked.sent_at >= since,
        )
        .order_by(asked.sent_at.desc(), asked.id.desc())
        .limit(1)
    )


async def latest_question(session: AsyncSession, expert_id: int, now: datetime) -> Message | None:
    """The newest message that asked them something, sent in the last two weeks."""
    since = now - timedelta(days=CONTEXT_DAYS)
    newest = newest_question(Message, since).where(Message.expert_id == expert_id)
    return await session.scalar(
        select(Message)
        .where(Message.id == newest.scalar_subquery())
        .options(joinedload(Message.engagement), joinedload(Message.invitation))
    )


# A batch at a time: the same questions as above, asked once for many messages.


async def renew_leases(
    session: AsyncSession, ids: Sequence[int], worker: str, now: datetime, lease: timedelta
) -> list[int]:
    """:func:`renew_lease` for a whole batch in one UPDATE: the ids this worker still holds,
    in the order given. On PostgreSQL their rows stay locked until commit, so the sweeper
    (SKIP LOCKED) passes them by while the batch is decided."""
    if not ids:
        return []
    renewed = set(
        await session.scalars(
            update(Message)
            .where(
                Message.id.in_(ids),
                Message.status == MessageStatus.SENDING,
                Message.claimed_by == worker,
                Message.lease_until > now,
            )
            .values(lease_until=now + lease)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [i for i in ids if i in renewed]


async def load_messages(session: AsyncSession, ids: Sequence[int]) -> list[Message]:
    """:func:`load_message` for a batch: the same picture in a fixed number of queries,
    however many messages; in the order given.

    For a session that holds none of these rows yet (each batch and each slice of
    answers begins its own): so nothing is refreshed, and a row many messages share (the
    engagement, the link worker) is built once, not again from every message's row."""
    if not ids:
        return []
    expert = joinedload(Message.expert)
    engagement = joinedload(Message.engagement)
    rows = await session.scalars(
        select(Message)
        .where(Message.id.in_(ids))
        .options(
            expert.joinedload(Expert.link_worker).joinedload(Staff.cover),
            engagement.joinedload(Engagement.lead),
            joinedload(Message.invitation),
            selectinload(Message.attempts_log),
            expert.selectinload(Expert.consents),
            expert.selectinload(Expert.contact_points),
            expert.selectinload(Expert.windows),
        )
    )
    by_id = {message.id: message for message in rows.unique()}
    return [by_id[i] for i in ids if i in by_id]


async def recent_capped_for(
    session: AsyncSession, expert_ids: Collection[int], now: datetime
) -> dict[int, list[datetime]]:
    """:func:`recent_capped` for everyone in a batch: their rows locked in one statement (in
    id order, so two workers never wait on each other in a circle), their counted
    attempts in one query. Every expert asked about has a list, empty or not."""
    recent: dict[int, list[datetime]] = {i: [] for i in expert_ids}
    if not recent:
        return recent
    ordered = sorted(recent)
    await session.execute(
        select(Expert.id).where(Expert.id.in_(ordered)).order_by(Expert.id).with_for_update()
    )
    rows = await session.execute(
        select(Message.expert_id, DeliveryAttempt.started_at)
        .join(Message, DeliveryAttempt.message_id == Message.id)
        .where(
            Message.expert_id.in_(ordered),
            Message.purpose.in_([p for p in Purpose if p.capped]),
            DeliveryAttempt.outcome.in_(_COUNTED),
            DeliveryAttempt.started_at > now - timedelta(days=7),
        )
    )
    for expert_id, started_at in rows:
        recent[expert_id].append(started_at)
    return recent


# Recording a batch's tries and the common answer with a few statements, not object by object.

_ATTEMPT = cast(Table, DeliveryAttempt.__table__)
_MESSAGE = cast(Table, Message.__table__)


async def insert_tries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Insert a batch's tries (one per message) in one statement; their ids by message id.

    Plain column values through Core: no objects are built only to be read back, and the
    rows go as one multi-row INSERT on SQLite and PostgreSQL alike."""
    if not rows:
        return {}
    inserted = await session.execute(
        # Matched by message id (one try each), so the rows may come back in any order.
        insert(_ATTEMPT).returning(_ATTEMPT.c.id, _ATTEMPT.c.message_id),
        list(rows),
    )
    return {message_id: attempt_id for attempt_id, message_id in inserted}


async def still_held(session: AsyncSession, tries: Mapping[int, int], worker: str) -> set[int]:
    """Of these messages (message id -> try id), those this worker still holds with that try
    still open: ``results.still_ours`` asked of the database. Their rows stay locked until
    commit on PostgreSQL (in id order), so the sweeper cannot settle them meanwhile."""
    if not tries:
        return set()
    rows = await session.execute(
        select(Message.id, DeliveryAttempt.id)
        .join(DeliveryAttempt, DeliveryAttempt.message_id == Message.id)
        .where(
            DeliveryAttempt.id.in_(list(tries.values())),
            DeliveryAttempt.outcome == AttemptOutcome.IN_PROGRESS,
            Message.status == MessageStatus.SENDING,
            Message.claimed_by == worker,
        )
        .order_by(Message.id)
        .with_for_update(of=Message)
    )
    return {message_id for message_id, attempt_id in rows if tries.get(message_id) == attempt_id}


async def write_messages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Column values onto messages this worker holds, in one executemany UPDATE by id
    (``the_id``); every dict has the same keys."""
    if rows:
        await session.execute(
            update(_MESSAGE).where(_MESSAGE.c.id == bindparam("the_id")), list(rows)
        )


async def write_tries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """:func:`write_messages` for tries."""
    if rows:
        await session.execute(
            update(_ATTEMPT).where(_ATTEMPT.c.id == bindparam("the_id")), list(rows)
        )

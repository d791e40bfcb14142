"""The new-contact-details form as one step: a phone number, email or postal address
waits for a second person (see ``contact_changes``).

Every field is tried, so one pass names every problem. When any is refused the caller's
transaction must not be committed: the ones that went through are not meant to stand alone.

A detail another expert already has is flagged to the person asking only when they may see
that expert. Across caseloads they hear nothing, since "someone else has this number" would
tell them a stranger uses the service; an administrator gets a task to check it instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts import contact_changes as changes
from bot.services.staff.access import Scope
from scheduling.people.tasks import open_task
from store.crypto import Cipher
from store.enums import Channel, TaskKind
from store.errors import Refused
from store.models import Expert, Staff

# The form's fields in page order, by the kind of detail each holds.
ASKED = (Channel.SMS, Channel.LETTER, Channel.EMAIL)

# An administrator's task title: no names, numbers or addresses.
SHARED_TITLE = "Check a contact detail that experts in different caseloads share"


@dataclass(frozen=True)
class Changed:
    """One detail taken: it waits for a colleague."""

    channel: Channel
    waits: bool  # a second person must confirm it first
    shared: bool  # another expert this person may see has this number or address too
    old_address_safe: bool = False  # letters keep going to the old address meanwhile


async def change_contact_details(
    session: AsyncSession,
    cipher: Cipher,
    expert: Expert,
    requester: Staff,
    asked: dict[Channel, str],
    *,
    scope: Scope,
    now: datetime,
    actor: str,
    old_address_safe: bool = False,
) -> list[Changed]:
    """Take each detail given (empty ones are left alone); raises Refused with one
    sentence per field when nothing was given or any detail is refused.
    ``old_address_safe``: letters may keep going to the old address while a new one waits."""
    if not any(asked.get(c) for c in ASKED):
        raise Refused("Enter a new phone number, postal address or email address", field="phone")
    done: list[Changed] = []
    errors: dict[str, str] = {}
    for channel in ASKED:
        text = asked.get(channel, "")
        if not text:
            continue
        try:
            made = await changes.request_change(
                session, cipher, expert, requester,
                channel=channel, text=text, now=now, actor=actor,
                old_address_safe=old_address_safe,
            )  # fmt: skip
        except Refused as exc:
            errors.update(exc.by_field("phone"))
            continue
        shared = await visible_sharing(
            session, scope, expert, made.shared_with, what=changes.KIND_WORDS[channel], now=now
        )
        done.append(
            Changed(
                channel,
                waits=True,
                shared=shared,
                old_address_safe=made.change.old_address_safe,
            )
        )
    if errors:
        raise Refused(errors=errors)
    return done


async def visible_sharing(
    session: AsyncSession,
    scope: Scope,
    expert: Expert,
    others: Iterable[int],
    *,
    what: str,
    now: datetime,
) -> bool:
    """Whether to tell this person another expert has the detail: only when they may see
    that expert. The others go to an administrator as one task per expert and detail."""
    ids = sorted(set(others))
    if not ids:
        return False
    found = await session.execute(
        select(Expert.id, Expert.link_worker_id, Expert.ref).where(Expert.id.in_(ids))
    )
    rows = list(found)
    hidden = [
        ref or "an expert with no reference"
        for _, worker, ref in rows
        if not scope.sees_worker(worker)
    ]
    if hidden:
        await open_task(
            session,
            kind=TaskKind.SHARED_CONTACT,
            title=SHARED_TITLE,
            details=(
                f"A {what} given for {expert.ref or 'an expert'} is also on the record of "
                f"{', '.join(hidden)}, in another caseload. Their link worker was not told. "
                "Check with both link workers that it is right: a reply from it could come "
                "from either of them, and both may read what we send."
            ),
            now=now,
            assignee=None,
            dedupe_key=f"shared-contact:{expert.id}:{what}:{','.join(map(str, ids))}",
        )
    return len(hidden) < len(rows)

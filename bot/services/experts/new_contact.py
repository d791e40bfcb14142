"""The new-contact-details form as one step: a phone number or postal address waits for a
second person, an email address is used at once (see ``contact_changes``).

Every field is tried, so one pass names every problem. When any is refused the caller's
transaction must not be committed: the ones that went through are not meant to stand alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts import contact_changes as changes
from store.crypto import Cipher
from store.enums import Channel
from store.errors import Refused
from store.models import Expert, Staff

# The form's fields in page order, by the kind of detail each holds.
ASKED = (Channel.SMS, Channel.LETTER, Channel.EMAIL)


@dataclass(frozen=True)
class Changed:
    """One detail taken: waiting for a colleague, or (email) in use now."""

    channel: Channel
    waits: bool  # a second person must confirm it first
    shared: bool  # another expert has this number or address too
    old_address_safe: bool = False  # letters keep going to the old address meanwhile


async def change_contact_details(
    session: AsyncSession,
    cipher: Cipher,
    expert: Expert,
    requester: Staff,
    asked: dict[Channel, str],
    *,
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
            if channel is Channel.EMAIL:
                shared = await changes.change_email(
                    session, cipher, expert, text, now=now, actor=actor
                )
                done.append(Changed(channel, waits=False, shared=bool(shared)))
            else:
                made = await changes.request_change(
                    session, cipher, expert, requester,
                    channel=channel, text=text, now=now, actor=actor,
                    old_address_safe=old_address_safe,
                )  # fmt: skip
                done.append(
                    Changed(
                        channel,
                        waits=True,
                        shared=bool(made.shared_with),
                        old_address_safe=made.change.old_address_safe,
                    )
                )
        except Refused as exc:
            errors.update(exc.by_field("phone"))
    if errors:
        raise Refused(errors=errors)
    return done

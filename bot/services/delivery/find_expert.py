"""Finding an expert for the delivery log from what an administrator has to hand: their
reference, phone number, email address or name.

Phone numbers and email addresses go through the blind index (a keyed hash of the
normalised value), exactly as an inbound message is matched: nothing is decrypted.

Names are encrypted and have no index. A name search decrypts the names in memory,
compares them there and forgets them: nothing about a name is written anywhere, and no
new hash of it is stored (a keyed hash of a short name is easy to confirm by guessing).
An organisation has hundreds of experts, not millions, so this is quick; above
`MOST_NAMES_SEARCHED` the page says so and asks for a reference, number or address.
The reasoning is in docs/architecture.md ("Searching by name").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.contact_details import normalise_email, normalise_phone
from store.crypto import Cipher
from store.enums import Channel
from store.errors import Refused
from store.models import ContactPoint, Expert, Staff

MOST_NAMES_SEARCHED = 5000
MOST_SHOWN = 20
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")


class NoSearch(Refused):
    """A search that cannot be done as typed; said by the search box."""


@dataclass(frozen=True)
class Found:
    """One expert a search found, as the log names them to an administrator."""

    expert_id: int
    name: str
    ref: str
    link_worker: str


def folded(text: str) -> str:
    """Lower case, accents and punctuation away: "Siobhán O'Neil" -> "siobhan o neil"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.casefold()).split())


def name_matches(query: str, name: str) -> bool:
    """Every word typed starts a word of the name, in any order ("ana l" finds Ana Long)."""
    words = folded(name).split()
    return all(any(w.startswith(q) for w in words) for q in folded(query).split())


async def find_experts(session: AsyncSession, cipher: Cipher, text: str) -> list[Found]:
    """The experts ``text`` points to, best first (at most `MOST_SHOWN`)."""
    query = text.strip()
    if not query:
        raise NoSearch("Enter a name, reference, phone number or email address", field="q")
    if len(query) > 200:
        raise NoSearch("Enter at most 200 characters", field="q")
    if "@" in query:
        return await _by_hash(session, cipher, _normal(normalise_email, query), (Channel.EMAIL,))
    if _PHONE_LIKE.match(query) and sum(c.isdigit() for c in query) >= 6:
        value = _normal(normalise_phone, query)
        return await _by_hash(session, cipher, value, (Channel.SMS, Channel.PHONE))
    by_ref = await _found(
        session, select(Expert.id).where(func.lower(Expert.ref) == query.casefold())
    )
    return by_ref or await _by_name(session, query)


def _normal(normalise: Callable[[str], str], text: str) -> str:
    try:
        return normalise(text)
    except ValueError as exc:
        raise NoSearch(f"{exc}".replace("'", "").capitalize(), field="q") from None


async def _by_hash(
    session: AsyncSession, cipher: Cipher, value: str, channels: tuple[Channel, ...]
) -> list[Found]:
    ids = select(ContactPoint.expert_id).where(
        ContactPoint.channel.in_(channels), ContactPoint.lookup_hash == cipher.blind_index(value)
    )
    return await _found(session, select(Expert.id).where(Expert.id.in_(ids)))


async def _by_name(session: AsyncSession, query: str) -> list[Found]:
    if not folded(query):
        raise NoSearch("Enter a name with at least one letter", field="q")
    total = await session.scalar(select(func.count(Expert.id))) or 0
    if total > MOST_NAMES_SEARCHED:
        raise NoSearch(
            f"There are more than {MOST_NAMES_SEARCHED} experts, too many to search by name: "
            "enter their reference, phone number or email address",
            field="q",
        )
    rows = await session.execute(select(Expert.id, Expert.preferred_name))
    ids = [expert_id for expert_id, name in rows if name_matches(query, name)]
    return await _found(session, select(Expert.id).where(Expert.id.in_(ids)))


async def _found(session: AsyncSession, ids: Select[Any]) -> list[Found]:
    rows = await session.execute(
        select(Expert.id, Expert.preferred_name, Expert.ref, Staff.name)
        .join(Staff, Staff.id == Expert.link_worker_id)
        .where(Expert.id.in_(ids))
        .order_by(Expert.ref, Expert.id)
        .limit(MOST_SHOWN)
    )
    found = [Found(i, name, ref or "", worker) for i, name, ref, worker in rows]
    return sorted(found, key=lambda f: (folded(f.name), f.ref, f.expert_id))

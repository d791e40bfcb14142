"""The expert's private "not safe now" word, chosen with their link worker: checked so it
never fires by chance, kept only as a keyed hash, and recognised when it arrives.

The welcome and the "how we'll contact you" summary are in ``introductions``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.profile import ExpertError
from scheduling.rules.agreement import safe_word_form, safe_word_problem
from scheduling.rules.distress import DistressWords
from store import audit
from store.crypto import Cipher
from store.models import Expert


async def set_safe_word(
    session: AsyncSession,
    cipher: Cipher,
    expert: Expert,
    word: str,
    distress: DistressWords,
    *,
    now: datetime,
    actor: str,
) -> None:
    """Keep their chosen "not safe now" word as a keyed hash; refused (field ``safe_word``)
    when it is too common or already means something, so it never fires by chance."""
    problem = safe_word_problem(word, distress)
    if problem is not None:
        raise ExpertError(
            f"that word cannot be used: {problem[:1].lower()}{problem[1:]}",
            field="safe_word",
            plain=problem,
        )
    expert.safe_word_hash = cipher.blind_index(safe_word_form(word))
    expert.safe_word_set_at = expert.updated_at = now
    # The word itself is never written anywhere: not here, not in the audit trail.
    audit.record(
        session,
        actor=actor,
        action="expert.safe_word_set",
        entity="expert",
        entity_id=expert.id,
        at=now,
    )


async def clear_safe_word(
    session: AsyncSession, expert: Expert, *, now: datetime, actor: str
) -> None:
    if expert.safe_word_hash is None:
        raise ExpertError('they have no "not safe now" word', plain="They have no word set")
    expert.safe_word_hash = expert.safe_word_set_at = None
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.safe_word_cleared",
        entity="expert",
        entity_id=expert.id,
        at=now,
    )


def is_safe_word(cipher: Cipher, expert: Expert, text: str) -> bool:
    """Whether this reply is their word, compared as the word was kept."""
    form = safe_word_form(text)
    return bool(form) and expert.safe_word_hash == cipher.blind_index(form)

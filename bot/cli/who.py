"""The expert and the member of staff a command names, or a sentence saying which is unknown."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail
from bot.services.experts.profile import find_expert
from bot.services.staff.accounts import find_staff
from store.models import Expert, Staff


async def expert_and_staff(session: AsyncSession, expert: str, by: str) -> tuple[Expert, Staff]:
    person = await find_expert(session, expert)
    if person is None:
        fail(f"no expert with id or ref {expert!r}")
    staff = await find_staff(session, by)
    if staff is None:
        fail(f"no member of staff with email {by!r}")
    return person, staff

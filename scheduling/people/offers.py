"""What an engagement offers for people's time and costs: its own offer, or the default an
administrator set for its kind (a panel, an interview), or none at all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.rules.payments import Offer, check_pence, offer_data, offer_from
from store import audit
from store.enums import EXPENSES, OfferKind, PaymentPurpose
from store.models import Engagement, OrgSetting


def _key(kind: str) -> str:
    return f"offer:{kind}"


async def kind_default(session: AsyncSession, kind: str) -> Offer:
    setting = await session.get(OrgSetting, _key(kind))
    return offer_from(setting.value if setting is not None else None)


async def set_kind_default(
    session: AsyncSession, kind: str, offer: Offer, *, now: datetime, actor: str
) -> None:
    """The offer every engagement of this kind follows until it is given its own."""
    setting = await session.get(OrgSetting, _key(kind))
    if setting is None:
        setting = OrgSetting(key=_key(kind), value={}, updated_at=now, updated_by=actor)
        session.add(setting)
    setting.value, setting.updated_at, setting.updated_by = offer_data(offer), now, actor
    audit.record(
        session, actor=actor, action="offer.kind_default", entity="org_setting", entity_id=None,
        at=now, kind=kind,
    )  # fmt: skip


async def settle_offer(session: AsyncSession, engagement: Engagement) -> None:
    """On publishing, an engagement without its own offer takes its kind's default, so
    what people were told stays what they were told if the default changes later."""
    if engagement.offer_kind is None:
        default = await kind_default(session, engagement.kind)
        engagement.offer_kind = default.kind
        engagement.offer_pence = default.pence
        engagement.expenses_covered = [e.value for e in default.expenses]
        engagement.expense_limit_pence = default.limit_pence


async def offer_for(session: AsyncSession, engagement: Engagement) -> Offer:
    """The engagement's own offer if it has one, else its kind's default."""
    if engagement.offer_kind is None:
        return await kind_default(session, engagement.kind)
    expenses = tuple(PaymentPurpose(e) for e in engagement.expenses_covered if e in _EXPENSES)
    return Offer(
        engagement.offer_kind, engagement.offer_pence, expenses, engagement.expense_limit_pence
    )


_EXPENSES = {p.value for p in EXPENSES}


def set_offer(
    session: AsyncSession, engagement: Engagement, offer: Offer, *, now: datetime, actor: str
) -> None:
    """Give one engagement its own offer (checked like any amount)."""
    check_pence(offer.pence)
    if offer.limit_pence is not None:
        check_pence(offer.limit_pence, field_name="limit")
    if offer.kind is OfferKind.NONE and offer.pence:
        offer = Offer(OfferKind.NONE, 0, offer.expenses, offer.limit_pence)
    engagement.offer_kind = offer.kind
    engagement.offer_pence = offer.pence
    engagement.expenses_covered = [e.value for e in offer.expenses]
    engagement.expense_limit_pence = offer.limit_pence
    engagement.updated_at = now
    audit.record(
        session, actor=actor, action="engagement.offer", entity="engagement",
        entity_id=engagement.id, at=now,
    )  # fmt: skip

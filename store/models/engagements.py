"""Engagements (meetings, sessions, events) and the experts invited to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import EngagementStatus, InvitationAnswer, OfferKind
from store.models.base import Base, enum_column
from store.models.people import Expert, Staff
from store.types import EncryptedText

# What an expert must be told before taking part (the charter's "information in advance").
ADVANCE_INFORMATION_FIELDS = (
    "purpose",
    "objectives",
    "expected_outcomes",
    "venue_name",
    "venue_accessibility",
    "meeting_point",
    "practitioners",
    "transport_and_expenses",
    "how_to_claim",
    "paperwork",
)


class Engagement(Base):
    __tablename__ = "engagement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="meeting")
    purpose: Mapped[str | None] = mapped_column(Text)
    objectives: Mapped[str | None] = mapped_column(Text)
    expected_outcomes: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # No default: whoever creates one names the zone (the organisation's, from the settings).
    time_zone: Mapped[str] = mapped_column(String(64))
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(Text)
    venue_accessibility: Mapped[str | None] = mapped_column(Text)
    online_link: Mapped[str | None] = mapped_column(String(500))
    meeting_point: Mapped[str | None] = mapped_column(Text)  # who meets people, and where
    practitioners: Mapped[str | None] = mapped_column(Text)
    transport_and_expenses: Mapped[str | None] = mapped_column(Text)
    how_to_claim: Mapped[str | None] = mapped_column(Text)
    paperwork: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[EngagementStatus] = enum_column(EngagementStatus, default=EngagementStatus.DRAFT)
    plan_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(EncryptedText)
    sequence: Mapped[int] = mapped_column(default=0)  # bumps when moved; calendar updates use it
    # "You said, we did": what changed because of what people said, fed back to them.
    outcomes: Mapped[str | None] = mapped_column(EncryptedText)
    outcomes_recorded_at: Mapped[datetime | None]
    # What it offers for people's time: None means the default for its kind (an
    # administrator's setting), so an engagement follows that until someone sets its own.
    offer_kind: Mapped[OfferKind | None] = enum_column(OfferKind, nullable=True)
    offer_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    # The expenses it covers (PaymentPurpose values) and a limit per expense, if any.
    expenses_covered: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    expense_limit_pence: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lead: Mapped[Staff] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="engagement", cascade="all, delete-orphan", order_by="Invitation.id"
    )


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("engagement_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    answer: Mapped[InvitationAnswer] = enum_column(
        InvitationAnswer, default=InvitationAnswer.PENDING
    )
    answered_at: Mapped[datetime | None]
    support_needs: Mapped[str | None] = mapped_column(EncryptedText)  # may be health details
    attended: Mapped[bool | None]
    # Set by the attendance sheet before the payments ledger existed; no longer written
    # (the ledger is where fees and costs are kept and paid) and kept because a person's
    # subject-access file shows what was recorded.
    costs_settled: Mapped[bool] = mapped_column(default=False)
    told_verbally_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    engagement: Mapped[Engagement] = relationship(back_populates="invitations")
    expert: Mapped[Expert] = relationship()


class PlanSetting(Base):
    """Contact-plan offsets for one kind of engagement (a panel, an interview, a workshop)."""

    __tablename__ = "plan_setting"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]

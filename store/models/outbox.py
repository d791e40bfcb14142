"""The durable outbox: one row per planned message, and one row per delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import (
    AttemptOutcome,
    Channel,
    IllegalTransition,
    MessageStatus,
    Purpose,
    can_move,
)
from store.models.base import Base, enum_column
from store.models.engagements import Engagement, Invitation
from store.models.people import Expert
from store.types import EncryptedText


class Message(Base):
    """One planned communication to one expert. The database, not the scheduler, is the truth."""

    __tablename__ = "message"
    __table_args__ = (
        # The claim query reads only pending rows by next_attempt_at; a partial index keeps it
        # fast however much sent history piles up.
        Index(
            "ix_message_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[Purpose] = enum_column(Purpose)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    due_at: Mapped[datetime]  # when the plan wants it sent
    not_after: Mapped[datetime | None]  # after this it is pointless or harmful to send
    status: Mapped[MessageStatus] = enum_column(MessageStatus, default=MessageStatus.PENDING)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    deferrals: Mapped[int] = mapped_column(default=0)
    requeues: Mapped[int] = mapped_column(default=0)  # times a stopped worker left it behind
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)
    subject: Mapped[str | None] = mapped_column(EncryptedText)
    body: Mapped[str | None] = mapped_column(EncryptedText)
    provider_id: Mapped[str | None] = mapped_column(String(120), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # Which wording of the template (pastoral messages vary, so they never read as bulk).
    variant: Mapped[int | None]
    # A pastoral draft waits for its link worker when they asked to approve each one; an
    # unapproved draft is never sent. The note is their own line, added to the message.
    needs_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    personal_note: Mapped[str | None] = mapped_column(EncryptedText)
    # What the words sent promise to follow up ("details"), as the template declared it;
    # the ledger records it when the message is sent.
    promised: Mapped[str | None] = mapped_column(String(60))
    # Who wrote a staff-written message (Purpose.WRITTEN); its words are personal_note.
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    expert: Mapped[Expert] = relationship()
    engagement: Mapped[Engagement | None] = relationship()
    # This expert's own invitation, without loading everyone invited (that made each send
    # cost grow with the size of the engagement).
    invitation: Mapped[Invitation | None] = relationship(
        primaryjoin="and_(Invitation.engagement_id == Message.engagement_id, "
        "Invitation.expert_id == Message.expert_id)",
        foreign_keys="[Invitation.engagement_id, Invitation.expert_id]",
        viewonly=True,
        uselist=False,
    )
    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="DeliveryAttempt.id"
    )

    def move(self, new: MessageStatus, reason: str | None, at: datetime) -> None:
        """Change status only along the allowed lifecycle; a wrong move is a bug, not a state."""
        if not can_move(self.status, new):
            raise IllegalTransition(f"message {self.id}: {self.status} -> {new} is not allowed")
        self.status = new
        self.status_reason = reason[:300] if reason else reason
        self.updated_at = at
        if new is not MessageStatus.SENDING:
            self.lease_until = None
            self.claimed_by = None


class DeliveryAttempt(Base):
    """One try on one channel, recorded before the provider is called."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = enum_column(Channel)
    router_reason: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[AttemptOutcome] = enum_column(AttemptOutcome)
    provider_id: Mapped[str | None] = mapped_column(String(120), index=True)  # delivery reports
    provider_status: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship(back_populates="attempts_log")

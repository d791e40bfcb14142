"""The promise ledger: what a sent message said we would do next, and whether we did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base
from store.models.engagements import Engagement
from store.models.people import Expert


class Promise(Base):
    """One follow-up a message promised ("I'll send the details"), recorded when it was
    sent. It is kept by a later message that went out or by a task a person closed; past
    its deadline and still open, the link worker's cover or the administrators hear."""

    __tablename__ = "promise"
    __table_args__ = (Index("ix_promise_open", "kept_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # details, outcomes, costs
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE")
    )
    # The message that made the promise, the message that keeps it, the task that keeps it.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("task.id", ondelete="SET NULL"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    made_at: Mapped[datetime]
    due_at: Mapped[datetime]
    kept_at: Mapped[datetime | None]
    kept_how: Mapped[str | None] = mapped_column(String(200))  # plain words for staff
    escalated_at: Mapped[datetime | None]

    expert: Mapped[Expert] = relationship()
    engagement: Mapped[Engagement | None] = relationship()

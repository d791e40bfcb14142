"""What listening needs besides the replies themselves: Telegram link codes and alerts to staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import AlertStatus, Channel
from store.models.base import Base, enum_column
from store.models.people import Expert, Staff


class TelegramLink(Base):
    """A one-time code that links an expert's Telegram chat. Only its hash is kept, so the
    table cannot be read to take over a link."""

    __tablename__ = "telegram_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    expert: Mapped[Expert] = relationship()
    created_by: Mapped[Staff] = relationship()


class StaffAlert(Base):
    """A short nudge to a member of staff on their own channel: something needs them now.

    Alerts carry no names and no reply text (a staff phone's lock screen is not private
    either); they point at a task. They are kept apart from the experts' outbox so they
    never count against an expert's limits or wait for an expert's safe hours.
    """

    __tablename__ = "staff_alert"
    __table_args__ = (Index("ix_staff_alert_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(40))  # which template says it
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[AlertStatus] = enum_column(AlertStatus, default=AlertStatus.PENDING)
    channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)  # once tried
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    staff: Mapped[Staff] = relationship()

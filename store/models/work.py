"""Replies from experts, tasks for people, the audit trail and database metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import Channel, TaskKind, TaskStatus
from store.models.base import Base, enum_column
from store.models.engagements import Engagement
from store.models.people import Expert, Staff
from store.types import EncryptedText


class Reply(Base):
    """Anything an expert (or a stranger) sent us, kept encrypted, with what it was taken
    to mean, what the machine said back, and when a person saw it."""

    __tablename__ = "reply"
    __table_args__ = (Index("ix_reply_waiting", "needs_person", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = enum_column(Channel)
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)  # dedupe inbound
    # Who sent it, as they sent it (for a stranger, the only way to find them) and as a
    # keyed hash (to count a stranger's tries without decrypting anything).
    sender: Mapped[str | None] = mapped_column(EncryptedText)
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(EncryptedText)
    intent: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int | None]  # a check-in answer, 1 (not good) to 5 (good)
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    needs_person: Mapped[bool] = mapped_column(default=False, server_default=false())
    auto_answer: Mapped[str | None] = mapped_column(EncryptedText)  # what the machine said back
    in_reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    escalated_at: Mapped[datetime | None]  # cover or an administrator was alerted

    expert: Mapped[Expert | None] = relationship()
    acknowledged_by: Mapped[Staff | None] = relationship()


class Task(Base):
    """Work for a person: a phone call, a venue visit, a delivery problem to look at."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = enum_column(TaskKind)
    status: Mapped[TaskStatus] = enum_column(TaskStatus, default=TaskStatus.OPEN)
    urgent: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(200))  # no personal data: names go in details
    details: Mapped[str | None] = mapped_column(EncryptedText)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE")
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    due_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(EncryptedText)  # what a person heard on a call
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    assignee: Mapped[Staff | None] = relationship()
    expert: Mapped[Expert | None] = relationship()
    engagement: Mapped[Engagement | None] = relationship()


class AuditEvent(Base):
    """Who did what to which record. Never message content or contact details."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Meta(Base):
    """Small facts about this database, such as the fingerprint of its encryption key."""

    __tablename__ = "linkline_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class OrgSetting(Base):
    """A setting an administrator changes on the web pages, such as how long texts are kept."""

    __tablename__ = "org_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))

"""Half-finished work kept on the server: an expert being added, section by section."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base
from store.types import EncryptedText

# A draft nobody has touched for this long is deleted (the daily purge, and on reading).
DRAFT_LIFETIME = timedelta(days=14)


class ExpertDraft(Base):
    """What someone has typed so far while adding an expert, one draft per member of staff.

    The answers are a person's name and contact details before they are an expert: kept
    encrypted like theirs, never in the session cookie, and deleted once saved, thrown
    away, or left untouched for ``DRAFT_LIFETIME``.
    """

    __tablename__ = "expert_draft"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    answers: Mapped[str] = mapped_column(EncryptedText)  # JSON, encrypted as one value
    updated_at: Mapped[datetime]

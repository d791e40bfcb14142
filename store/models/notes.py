"""Staff-only notes on an expert's conversation: what staff need to remember, kept apart
from everything the person saw, heard or wrote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base
from store.models.people import Expert, Staff
from store.types import EncryptedText


class StaffNote(Base):
    """A note one member of staff wrote about a conversation; the expert never sees it.
    The text is personal data (it can say how someone is), so it is encrypted."""

    __tablename__ = "staff_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    written_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime]

    expert: Mapped[Expert] = relationship()
    written_by: Mapped[Staff] = relationship()

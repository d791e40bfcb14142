"""The money ledger: what each invited person is owed for their time and costs.

Amounts are whole pence (no floating point near money). Each invitation has at most one
line per purpose, so nothing can be paid twice; the database enforces that and the sign
and size of every amount, whatever the code above it does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import PaymentPurpose, PaymentStatus
from store.models.base import Base, enum_column
from store.models.engagements import Invitation
from store.types import EncryptedText

# The database's own ceiling (£10,000): far above anything real, a guard against a typo
# in pence that the application's lower limit (scheduling.rules.payments) should catch.
DB_MAX_PENCE = 1_000_000


class PaymentLine(Base):
    __tablename__ = "payment_line"
    __table_args__ = (
        UniqueConstraint("invitation_id", "purpose", name="uq_payment_line_purpose"),
        CheckConstraint(
            f"amount_pence >= 0 AND amount_pence <= {DB_MAX_PENCE}", name="amount_in_range"
        ),
        CheckConstraint("status != 'paid' OR paid_at IS NOT NULL", name="paid_has_date"),
        CheckConstraint(
            "status != 'declined' OR declined_at IS NOT NULL", name="declined_has_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[PaymentPurpose] = enum_column(PaymentPurpose)
    status: Mapped[PaymentStatus] = enum_column(PaymentStatus, default=PaymentStatus.OWED)
    amount_pence: Mapped[int] = mapped_column(default=0)
    what_for: Mapped[str | None] = mapped_column(EncryptedText)  # "bus fares", for staff
    receipt_seen: Mapped[bool] = mapped_column(default=False, server_default=false())
    decline_reason: Mapped[str | None] = mapped_column(EncryptedText)  # said to the person
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[datetime | None]
    paid_by: Mapped[str | None] = mapped_column(String(120))
    declined_at: Mapped[datetime | None]
    # An approved line left unpaid too long alerts the administrators, once.
    overdue_alerted_at: Mapped[datetime | None]

    invitation: Mapped[Invitation] = relationship()
    changes: Mapped[list[PaymentChange]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="PaymentChange.id"
    )

    @property
    def reference(self) -> str:
        """The line's reference for finance: no name, nothing about what it was for."""
        return f"LL{self.id:06d}"


class PaymentChange(Base):
    """Every change of an amount after a line was opened, with the reason a person gave."""

    __tablename__ = "payment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("payment_line.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    from_pence: Mapped[int]
    to_pence: Mapped[int]
    reason: Mapped[str] = mapped_column(EncryptedText)

    line: Mapped[PaymentLine] = relationship(back_populates="changes")

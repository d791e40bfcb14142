"""payments: what an engagement offers, and the ledger of what each person is owed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Amounts are whole pence. One line per purpose per invitation (nothing paid twice), amounts
never negative nor beyond a ceiling, and a paid or declined line always has its date: the
database holds these whatever the code does. Every change of an amount keeps its reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PURPOSES = ("time", "travel", "childcare", "carer", "meals", "other", "cancellation_costs")
_STATUSES = ("owed", "approved", "paid", "declined")
_OFFERS = ("per_session", "per_hour", "voucher", "none")


def upgrade() -> None:
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "offer_kind",
                sa.Enum(*_OFFERS, name="offerkind", native_enum=False, length=32),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("offer_pence", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("expenses_covered", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(sa.Column("expense_limit_pence", sa.Integer(), nullable=True))
    op.create_table(
        "payment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(*_PURPOSES, name="paymentpurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*_STATUSES, name="paymentstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("what_for", sa.Text(), nullable=True),
        sa.Column("receipt_seen", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(length=120), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "amount_pence >= 0 AND amount_pence <= 1000000",
            name=op.f("ck_payment_line_amount_in_range"),
        ),
        sa.CheckConstraint(
            "status != 'paid' OR paid_at IS NOT NULL", name=op.f("ck_payment_line_paid_has_date")
        ),
        sa.CheckConstraint(
            "status != 'declined' OR declined_at IS NOT NULL",
            name=op.f("ck_payment_line_declined_has_date"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_payment_line_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_line")),
        sa.UniqueConstraint("invitation_id", "purpose", name="uq_payment_line_purpose"),
    )
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_line_invitation_id"), ["invitation_id"], unique=False
        )
    op.create_table(
        "payment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("from_pence", sa.Integer(), nullable=False),
        sa.Column("to_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["payment_line.id"],
            name=op.f("fk_payment_change_line_id_payment_line"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_change")),
    )
    with op.batch_alter_table("payment_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_change_line_id"), ["line_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_change_line_id"))
    op.drop_table("payment_change")
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_line_invitation_id"))
    op.drop_table("payment_line")
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.drop_column("expense_limit_pence")
        batch_op.drop_column("expenses_covered")
        batch_op.drop_column("offer_pence")
        batch_op.drop_column("offer_kind")

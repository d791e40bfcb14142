"""conversation: staff-only notes, and who wrote a staff-written message

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Staff now write to experts through Linkline (Purpose "written", stored as a string like
every purpose, so no type changes); the message records who wrote it. Staff notes on a
conversation are a table of their own, so nothing a person never saw can be mistaken
for something they did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["expert.id"],
            name=op.f("fk_staff_note_expert_id_expert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["staff.id"], name=op.f("fk_staff_note_written_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_note")),
    )
    with op.batch_alter_table("staff_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_note_expert_id"), ["expert_id"], unique=False)
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_message_written_by_id_staff"), "staff", ["written_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_message_written_by_id_staff"), type_="foreignkey")
        batch_op.drop_column("written_by_id")
    with op.batch_alter_table("staff_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_note_expert_id"))
    op.drop_table("staff_note")

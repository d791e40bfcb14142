"""promises: the ledger of follow-ups a sent message promised, and what a message promised

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kept_how", sa.String(length=200), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagement.id"],
            name=op.f("fk_promise_engagement_id_engagement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["expert.id"],
            name=op.f("fk_promise_expert_id_expert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["message.id"],
            name=op.f("fk_promise_follow_up_id_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_promise_message_id_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_promise_task_id_task"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_promise_dedupe_key")),
    )
    with op.batch_alter_table("promise", schema=None) as batch_op:
        batch_op.create_index("ix_promise_open", ["kept_at", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_promise_expert_id"), ["expert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_promise_follow_up_id"), ["follow_up_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_promise_task_id"), ["task_id"], unique=False)
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("promised")
    with op.batch_alter_table("promise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promise_task_id"))
        batch_op.drop_index(batch_op.f("ix_promise_follow_up_id"))
        batch_op.drop_index(batch_op.f("ix_promise_expert_id"))
        batch_op.drop_index("ix_promise_open")
    op.drop_table("promise")

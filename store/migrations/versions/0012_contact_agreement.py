"""contact agreement: the private "not safe now" word, and leaving with care

An expert's own "not safe now" word is kept only as a keyed hash (like a phone number's
lookup), with the day it was chosen; leaving records when and why (the reason encrypted).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("safe_word_hash", "safe_word_set_at", "withdrawn_at", "withdrawal_reason")


def upgrade() -> None:
    with op.batch_alter_table("expert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safe_word_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("safe_word_set_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("expert", schema=None) as batch_op:
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)

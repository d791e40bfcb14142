"""reach: a postal-address change records whether the old address is still safe

While a new address waits for a second person, letters are held unless the person who
asked recorded that the old address is still safe to write to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_change", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("old_address_safe", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_change", schema=None) as batch_op:
        batch_op.drop_column("old_address_safe")

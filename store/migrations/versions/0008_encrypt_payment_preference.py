"""encrypt payment_preference: the last personal field stored in plain text

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

How someone prefers to be paid is personal (it can say they have no bank account, or are
on benefits), so it is encrypted like names and contact details. The column becomes text
(a ciphertext is longer than the old 40 characters) and every existing value is encrypted
with the app's key, which `linkline db upgrade` attaches to the connection's dialect.
Run from a bare Alembic command line, with no key, the step refuses rather than leave a
plain value behind. Already-encrypted values are left alone, so running it twice is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
# 0007 on main; in this branch the chain still ends at 0006 (re-chained when merged).
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_KEY = (
    "payment preferences cannot be encrypted without the key: run `linkline db upgrade` "
    "(it uses LINKLINE_SECRET_KEY or the key file) instead of Alembic on its own"
)


def _cipher() -> Any:
    """The app's cipher, bound to this connection's dialect by store.engine (no import of
    app code: a migration must keep working as the code around it changes)."""
    return getattr(op.get_bind().dialect, "linkline_cipher", None)


def _sealed(cipher: Any, value: str) -> bool:
    try:
        cipher.decrypt(value)
    except ValueError:  # DecryptionError, a bad base64 body, bad UTF-8
        return False
    return True


def _rows() -> list[tuple[int, str]]:
    found = op.get_bind().execute(
        sa.text("SELECT id, payment_preference FROM expert WHERE payment_preference IS NOT NULL")
    )
    return [(row[0], row[1]) for row in found]


def _write(values: dict[int, str]) -> None:
    statement = sa.text("UPDATE expert SET payment_preference = :value WHERE id = :id")
    for expert_id, value in values.items():
        op.get_bind().execute(statement, {"id": expert_id, "value": value})


def upgrade() -> None:
    rows, cipher = _rows(), _cipher()
    if rows and cipher is None:
        raise RuntimeError(_NO_KEY)  # before any change, so nothing is left half done
    with op.batch_alter_table("expert", schema=None) as batch_op:
        batch_op.alter_column(
            "payment_preference",
            existing_type=sa.String(length=40),
            type_=sa.Text(),
            existing_nullable=True,
        )
    if rows:
        _write({i: cipher.encrypt(v) for i, v in rows if not _sealed(cipher, v)})


def downgrade() -> None:
    # Back to plain text, but kept as text: a value longer than 40 characters would not fit
    # the old column, and a downgrade must not lose it.
    rows = _rows()
    if rows:
        cipher = _cipher()
        if cipher is None:
            raise RuntimeError(_NO_KEY)
        _write({i: cipher.decrypt(v) for i, v in rows if _sealed(cipher, v)})

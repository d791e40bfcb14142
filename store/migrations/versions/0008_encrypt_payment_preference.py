"""encrypt payment_preference and access_needs: the last personal fields in plain text

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

How someone prefers to be paid is personal (it can say they have no bank account), and
their access needs (large print, easy read) say something about their health, so both are
encrypted like names and contact details (review finding M-4). The columns become text (a
ciphertext is longer than 40 characters; the list is stored as encrypted JSON) and every
existing value is encrypted with the app's key, which `linkline db upgrade` attaches to
the connection's dialect. Run from a bare Alembic command line, with no key, the step
refuses before changing anything rather than leave a plain value behind. A value that is
already encrypted is left alone, so running it again is safe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
# 0007 on main; in this branch the chain still ends at 0006 (re-chained when merged).
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_KEY = (
    "personal fields cannot be encrypted without the key: run `linkline db upgrade` "
    "(it uses LINKLINE_SECRET_KEY or the key file) instead of Alembic on its own"
)
_COLUMNS = ("payment_preference", "access_needs")


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


def _rows(column: str) -> dict[int, str]:
    found = op.get_bind().execute(
        sa.text(f"SELECT id, CAST({column} AS TEXT) FROM expert WHERE {column} IS NOT NULL")
    )
    return {row[0]: row[1] for row in found}


def _write(column: str, values: dict[int, str]) -> None:
    statement = sa.text(f"UPDATE expert SET {column} = :value WHERE id = :id")
    for expert_id, value in values.items():
        op.get_bind().execute(statement, {"id": expert_id, "value": value})


def upgrade() -> None:
    rows = {column: _rows(column) for column in _COLUMNS}
    cipher = _cipher()
    if any(rows.values()) and cipher is None:
        raise RuntimeError(_NO_KEY)  # before any change, so nothing is left half done
    with op.batch_alter_table("expert", schema=None) as batch_op:
        batch_op.alter_column(
            "payment_preference",
            existing_type=sa.String(length=40),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "access_needs",
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="access_needs::text",
        )
    for column, values in rows.items():
        # JSON text for the list, as the app's encrypted list type reads it back.
        plain = {i: json.dumps(json.loads(v)) if column == "access_needs" else v
                 for i, v in values.items() if not _sealed(cipher, v)}  # fmt: skip
        _write(column, {i: cipher.encrypt(v) for i, v in plain.items()})


def downgrade() -> None:
    rows = {column: _rows(column) for column in _COLUMNS}
    cipher = _cipher()
    if any(rows.values()) and cipher is None:
        raise RuntimeError(_NO_KEY)
    for column, values in rows.items():
        _write(column, {i: cipher.decrypt(v) for i, v in values.items() if _sealed(cipher, v)})
    with op.batch_alter_table("expert", schema=None) as batch_op:
        # payment_preference stays text: a value over 40 characters must not be lost.
        batch_op.alter_column(
            "access_needs",
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="access_needs::json",
        )

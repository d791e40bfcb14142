"""Declarative base with stable constraint names (so Alembic migrations stay readable)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, mapped_column

from store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


def enum_column(enum_cls: type, **kwargs: Any) -> Any:
    """Enums stored by value as plain strings: readable SQL, no PostgreSQL types to migrate."""
    return mapped_column(
        Enum(
            enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        ),
        **kwargs,
    )

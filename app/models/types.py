"""Column types and helpers shared by the models."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def fits_bigint(value) -> bool:
    """Whether `value` (e.g. a Telegram id or an update_id read from JSON) is an int a bigint column holds; a bool
    is not one. Larger numbers make the database refuse the statement that binds them."""
    return type(value) is int and -2 ** 63 <= value < 2 ** 63


class DeltaCountRow:
    """The columns every trigger-kept count table shares (app/services/delta_counts.py): triggers append delta rows
    (`fresh`), the compaction job folds them into one row per key."""

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    fresh: Mapped[bool] = mapped_column(default=True)


def delta_count_indexes(table: str, *key: str, counted: str) -> tuple[sa.Index, sa.Index]:
    """A count table's indexes: its key (tenant first, the count included for index-only sums) and its fresh rows."""
    return (sa.Index(f"ix_{table}_key", "tenant_id", *key, postgresql_include=[counted]),
            sa.Index(f"ix_{table}_fresh", "tenant_id", postgresql_where=sa.text("fresh"),
                     sqlite_where=sa.text("fresh")))


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops tzinfo otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column: str, values, name: str) -> sa.CheckConstraint:
    """A named CHECK that keeps a string column within an enum's values."""
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


#: Money is an integer number of Toman.
Money = sa.BigInteger

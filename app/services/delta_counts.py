"""Count tables kept by database triggers as appended delta rows (+n / -n, `fresh`): folding them per tenant.

Triggers only append, so concurrent writers never wait on each other's count rows; reads sum the rows of a
key and are exact whether or not folding has run. `compact` folds a tenant's keys that have fresh rows into
one row per key (a key summing to 0 goes).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db


@dataclass(frozen=True)
class DeltaTable:
    name: str
    #: The key columns besides tenant_id.
    keys: tuple[str, ...]
    #: The counted column.
    amount: str
    #: pg_try_advisory_xact_lock(lock_class, tenant id): one compaction per table and tenant at a time.
    lock_class: int

    def pg_compact(self) -> str:
        keys, on = ", ".join(self.keys), " AND ".join(f"c.{k} = k.{k}" for k in self.keys)
        return (f"WITH keys AS (SELECT DISTINCT {keys} FROM {self.name} WHERE tenant_id = :t AND fresh), "
                f"gone AS (DELETE FROM {self.name} c USING keys k WHERE c.tenant_id = :t AND {on} "
                f"RETURNING {', '.join('c.' + k for k in self.keys)}, c.{self.amount}) "
                f"INSERT INTO {self.name} (tenant_id, {keys}, {self.amount}, fresh) "
                f"SELECT :t, {keys}, SUM({self.amount}), false FROM gone "
                f"GROUP BY {keys} HAVING SUM({self.amount}) <> 0")

    def sqlite_keys(self) -> str:
        keys = ", ".join(self.keys)
        return f"({keys}) IN (SELECT {keys} FROM {self.name} WHERE tenant_id = :t AND fresh AND id <= :m)"


def compact(table: DeltaTable, tenant_id: int) -> int:
    """Fold the tenant's delta rows into one row per key; returns rows written.

    Postgres: one statement (DELETE ... RETURNING feeds the INSERT, so a row committed meanwhile by a writer
    is either folded or left for next time, never lost), under a per-tenant advisory lock that is tried, not
    waited for. SQLite runs one writer at a time: an INSERT of the sums, then a DELETE, bounded by the
    largest id seen.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        if not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(table.lock_class, tenant_id))):
            return 0
        return max(db.session.execute(sa.text(table.pg_compact()), {"t": tenant_id}).rowcount or 0, 0)
    last = db.session.scalar(sa.text(f"SELECT max(id) FROM {table.name} WHERE tenant_id = :t"), {"t": tenant_id})
    if last is None:
        return 0
    params, keys, where = {"t": tenant_id, "m": last}, ", ".join(table.keys), table.sqlite_keys()
    written = db.session.execute(sa.text(
        f"INSERT INTO {table.name} (tenant_id, {keys}, {table.amount}, fresh) "
        f"SELECT :t, {keys}, SUM({table.amount}), 0 FROM {table.name} WHERE tenant_id = :t AND id <= :m AND {where} "
        f"GROUP BY {keys} HAVING SUM({table.amount}) <> 0"), params).rowcount
    db.session.execute(sa.text(f"DELETE FROM {table.name} WHERE tenant_id = :t AND id <= :m AND {where}"), params)
    return max(written or 0, 0)

"""CSV exports of a tenant's rows: members, receipts, ledger, subscriptions, audit.

Each export is a header row then rows read in id-keyset batches, so a million-member export keeps a
constant amount in memory. Cells are plain values (ISO dates in UTC, Latin digits); the web layer
writes them with `csv_cells` (formula-safe) and a UTF-8 BOM.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, LedgerEntry, Member, Plan, Receipt, Subscription, Tenant

BATCH = 1000
#: Cells starting with these are formulas to Excel and LibreOffice (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_cells(row) -> list:
    return [safe_cell(_plain(value)) for value in row]


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _keyset(query: sa.Select, id_column) -> Iterator[sa.Row]:
    after, batch = 0, BATCH
    while True:
        rows = db.session.execute(query.where(id_column > after).order_by(id_column).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def members(tenant: Tenant) -> Iterator[list]:
    yield ["telegram_id", "username", "first_name", "last_name", "language", "balance", "total_xp", "level",
           "banned", "created_at"]
    query = sa.select(Member.id, Member.telegram_id, Member.username, Member.first_name, Member.last_name,
                      Member.language_code, Member.balance, Member.total_xp, Member.level, Member.is_banned,
                      Member.created_at).where(Member.tenant_id == tenant.id)
    for row in _keyset(query, Member.id):
        yield list(row[1:])


def receipts(tenant: Tenant) -> Iterator[list]:
    yield ["tracking_code", "member_telegram_id", "purpose", "plan", "amount", "status", "text", "created_at",
           "reviewed_at", "reject_reason"]
    query = (sa.select(Receipt.id, Receipt.tracking_code, Member.telegram_id, Receipt.purpose, Plan.name,
                       Receipt.amount, Receipt.status, Receipt.text, Receipt.created_at, Receipt.reviewed_at,
                       Receipt.reject_reason)
             .join(Member, Member.id == Receipt.member_id).outerjoin(Plan, Plan.id == Receipt.plan_id)
             .where(Receipt.tenant_id == tenant.id))
    for row in _keyset(query, Receipt.id):
        yield list(row[1:])


def ledger(tenant: Tenant) -> Iterator[list]:
    yield ["id", "account", "member_telegram_id", "amount", "balance_after", "kind", "ref", "note", "actor",
           "created_at"]
    query = (sa.select(LedgerEntry.id, LedgerEntry.account, Member.telegram_id, LedgerEntry.amount,
                       LedgerEntry.balance_after, LedgerEntry.kind, LedgerEntry.ref_type, LedgerEntry.ref_id,
                       LedgerEntry.note, LedgerEntry.actor, LedgerEntry.created_at)
             .outerjoin(Member, Member.id == LedgerEntry.member_id).where(LedgerEntry.tenant_id == tenant.id))
    for row in _keyset(query, LedgerEntry.id):
        ref = f"{row.ref_type}:{row.ref_id}" if row.ref_type else ""
        yield [row.id, row.account, row.telegram_id, row.amount, row.balance_after, row.kind, ref, row.note,
               row.actor, row.created_at]


def subscriptions(tenant: Tenant) -> Iterator[list]:
    yield ["id", "member_telegram_id", "plan", "status", "source", "starts_at", "ends_at", "traffic_limit_bytes",
           "traffic_used_bytes"]
    query = (sa.select(Subscription.id, Member.telegram_id, Plan.name, Subscription.status, Subscription.source,
                       Subscription.starts_at, Subscription.ends_at, Subscription.traffic_limit_bytes,
                       Subscription.traffic_used_bytes)
             .join(Member, Member.id == Subscription.member_id).join(Plan, Plan.id == Subscription.plan_id)
             .where(Subscription.tenant_id == tenant.id))
    for row in _keyset(query, Subscription.id):
        yield list(row)


def audit(tenant: Tenant) -> Iterator[list]:
    yield ["id", "created_at", "actor", "action", "target", "details"]
    query = sa.select(AuditLog.id, AuditLog.created_at, AuditLog.actor, AuditLog.action, AuditLog.target,
                      AuditLog.data).where(AuditLog.tenant_id == tenant.id)
    for row in _keyset(query, AuditLog.id):
        yield list(row)


EXPORTS: dict[str, Callable[[Tenant], Iterator[list]]] = {
    "members": members, "receipts": receipts, "ledger": ledger, "subscriptions": subscriptions, "audit": audit,
}

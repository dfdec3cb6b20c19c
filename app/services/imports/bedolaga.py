"""The rest of a Bedolaga-style bot database: subscriptions, transactions, promo codes, referrals.

Its users are read by sources.from_bedolaga_users; this module maps the rows that hang off them.
- subscriptions keep their end date and traffic (GB -> bytes) on a hidden plan "Imported (Bedolaga)";
  one is skipped when the member already has a subscription of that plan starting at the same instant.
- completed transactions become ledger history (`import:bedolaga:tx:<id>`), signed by type; the member's
  opening entry is then the difference between the source balance and that history, so the member's
  balance equals the source balance and still equals the sum of their ledger entries.
- promo codes keep their code, kind, value and limits; referrals become referred_by.
Money is in hundredths of the source's unit; one unit is imported as one Toman (rounded down).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Plan, Promocode, Subscription, Tenant
from app.models.types import utcnow
from app.services import ledger
from app.services.imports import sources
from app.services.imports.bulk import insert_for
from app.services.imports.writer import ImportReport

PLAN_NAME = "Imported (Bedolaga)"
GIB = 1024**3
CREDIT_TYPES = {"deposit", "referral_reward", "refund", "poll_reward"}
DEBIT_TYPES = {"withdrawal", "subscription_payment", "gift_payment"}
PROMO_KINDS = {"balance": "balance", "subscription_days": "plan_days", "trial_subscription": "plan_days",
               "discount": "discount_percent"}


def user_ids(engine: sa.Engine) -> dict[int, int]:
    """Bedolaga users.id -> telegram_id."""
    with engine.connect() as conn:
        return {uid: tg for uid, tg in conn.execute(sa.text("SELECT id, telegram_id FROM users")) if tg}


def import_money(engine, tenant: Tenant, users: dict[int, int], members: dict[int, int],
                 balances: dict[int, int], report: ImportReport) -> None:
    """Per member: history credits, then history debits, then the entry that reaches the source balance.

    A member whose closing entry exists was moved already; a re-run leaves their money alone.
    """
    history = _history_by_member(engine, users)
    for telegram_id, member_id in members.items():
        closing_key = f"import:bedolaga:{telegram_id}:opening"
        if ledger.find_entry(tenant.id, closing_key) is not None:
            continue
        member = db.session.get(Member, member_id)
        for tx in sorted(history.get(telegram_id, []), key=lambda t: t["signed"] < 0):
            _history_entry(member, tx, report)
        _close(member, balances.get(telegram_id, 0), closing_key, report)


def _history_entry(member: Member, tx: dict[str, Any], report: ImportReport) -> None:
    key, amount = f"import:bedolaga:tx:{tx['id']}", abs(tx["signed"])
    if tx["signed"] < 0 and member.balance < amount:
        report.problem(f"transaction {tx['id']}: a debit of {amount} above the balance; left out of the history")
        return
    move = ledger.credit_member if tx["signed"] > 0 else ledger.debit_member
    entry = move(member, amount, key=key, kind="imported", note=tx["description"], actor="import")
    entry.created_at = sources.rows.moment(tx["created_at"]) or entry.created_at
    report.extra["history_entries"] += 1


def _close(member: Member, target: int, key: str, report: ImportReport) -> None:
    delta = target - member.balance
    if delta > 0:
        ledger.credit_member(member, delta, key=key, kind="opening_balance", actor="import")
    elif delta < 0:
        ledger.debit_member(member, -delta, key=key, kind="opening_balance", actor="import")
    report.credited += 1 if delta else 0
    report.credited_toman += delta


def _history_by_member(engine, users: dict[int, int]) -> dict[int, list[dict[str, Any]]]:
    history: dict[int, list[dict[str, Any]]] = {}
    for tx in _transactions(engine):
        telegram_id = users.get(tx["user_id"])
        if telegram_id is not None and tx["signed"]:
            history.setdefault(telegram_id, []).append(tx)
    return history


def _transactions(engine) -> list[dict[str, Any]]:
    rows = []
    query = sa.text("SELECT id, user_id, type, amount_kopeks, description, created_at, is_completed "
                    "FROM transactions ORDER BY created_at, id")
    with engine.connect() as conn:
        for tx in conn.execute(query).mappings():
            if tx["is_completed"] is not None and not tx["is_completed"]:
                continue
            toman = abs(int(tx["amount_kopeks"] or 0)) // sources.BEDOLAGA_UNIT
            sign = 1 if tx["type"] in CREDIT_TYPES else -1 if tx["type"] in DEBIT_TYPES else 0
            rows.append({**tx, "signed": sign * toman, "description": (tx["description"] or "")[:500]})
    return rows


def import_subscriptions(engine, tenant: Tenant, users: dict[int, int], members: dict[int, int],
                         report: ImportReport) -> None:
    plan = _imported_plan(tenant)
    query = sa.text("SELECT user_id, status, start_date, end_date, traffic_limit_gb, traffic_used_gb "
                    "FROM subscriptions")
    with engine.connect() as conn:
        records = list(conn.execute(query).mappings())
    for record in records:
        member_id = members.get(users.get(record["user_id"]))
        if member_id is None or record["end_date"] is None:
            report.problem(f"subscription of source user {record['user_id']}: no member or no end date; skipped")
            continue
        if _add_subscription(tenant, plan, member_id, record):
            report.extra["subscriptions"] += 1


def _add_subscription(tenant, plan, member_id, record) -> bool:
    starts = sources.rows.moment(record["start_date"]) or utcnow()
    ends = sources.rows.moment(record["end_date"])
    exists = db.session.scalar(sa.select(Subscription.id).where(
        Subscription.member_id == member_id, Subscription.plan_id == plan.id, Subscription.starts_at == starts))
    if exists:
        return False
    limit_gb = int(record["traffic_limit_gb"] or 0)
    db.session.add(Subscription(
        tenant_id=tenant.id, member_id=member_id, plan_id=plan.id, status=_status(record["status"], ends),
        starts_at=starts, ends_at=ends, traffic_limit_bytes=limit_gb * GIB if limit_gb else None,
        traffic_used_bytes=int(float(record["traffic_used_gb"] or 0) * GIB), source="grant"))
    db.session.flush()
    return True


def _status(source_status: str | None, ends) -> str:
    if source_status == "limited":
        return "limited"
    if source_status == "disabled":
        return "cancelled"
    return "active" if source_status in ("active", "trial") and ends > utcnow() else "expired"


def _imported_plan(tenant: Tenant) -> Plan:
    plan = db.session.scalar(sa.select(Plan).where(Plan.tenant_id == tenant.id, Plan.name == PLAN_NAME))
    if plan is None:
        plan = Plan(tenant_id=tenant.id, name=PLAN_NAME, period_days=30, price=1, is_active=False,
                    is_archived=True, description="Subscriptions moved in from a Bedolaga bot.")
        db.session.add(plan)
        db.session.flush()
    return plan


def import_promocodes(engine, tenant: Tenant, report: ImportReport) -> None:
    query = sa.text("SELECT code, type, balance_bonus_kopeks, subscription_days, max_uses, current_uses, "
                    "valid_until, is_active FROM promocodes")
    with engine.connect() as conn:
        records = list(conn.execute(query).mappings())
    values = [v for v in (_promo_values(tenant, r, report) for r in records) if v]
    if values:
        result = db.session.execute(insert_for(Promocode.__table__).on_conflict_do_nothing().returning(
            Promocode.__table__.c.id), values)
        report.extra["promocodes"] += len(result.all())


def _promo_values(tenant, record, report) -> dict | None:
    kind = PROMO_KINDS.get(record["type"])
    code = (record["code"] or "").strip().upper()[:32]
    value = _promo_value(kind, record)
    if kind is None or not code or value <= 0:
        report.problem(f"promo code {code or '?'}: type {record['type']!r} has no equivalent here; skipped")
        return None
    uses = int(record["current_uses"] or 0)
    max_uses = max(int(record["max_uses"] or 0), uses) or None
    return {"tenant_id": tenant.id, "code": code, "kind": kind, "value": value, "max_uses": max_uses,
            "uses_count": uses, "is_active": bool(record["is_active"]),
            "plan_id": _imported_plan(tenant).id if kind == "plan_days" else None,
            "expires_at": sources.rows.moment(record["valid_until"]), "created_at": utcnow()}


def _promo_value(kind, record) -> int:
    if kind == "balance":
        return int(record["balance_bonus_kopeks"] or 0) // sources.BEDOLAGA_UNIT
    if kind == "plan_days":
        return int(record["subscription_days"] or 0)
    if kind == "discount_percent":
        return min(int(record["balance_bonus_kopeks"] or 0), 100)
    return 0


def referral_pairs(engine, users: dict[int, int]) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, referred_by_id FROM users WHERE referred_by_id IS NOT NULL"))
        return [(users[uid], users[ref]) for uid, ref in rows if uid in users and ref in users]


"""On a 100,000-member tenant, the dashboard's queries read indexes: no Seq Scan of the big tables.

The SQL comes from the same query functions the views call. Rows are seeded with set-based SQL.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db as sql_db
from app.models import Member, Receipt
from app.services import leaderboard, member_queries, overview, receipt_queries
from tests.conftest import _empty_all_tables
from tests.factories import Factories

BIG_TABLES = {"members", "ledger_entries", "receipts"}
MEMBERS, LEDGER_ENTRIES, RECEIPTS = 100_000, 300_000, 20_000

SEED = [
    """INSERT INTO members (tenant_id, telegram_id, username, first_name, last_name, language_code, balance,
         vip_level, is_newcomer, is_banned, total_xp, xp_today, level, referral_code, streak_days, created_at)
       SELECT :t, 1000000 + g, 'user_' || g, 'Name' || (g % 5000), 'Family' || (g % 3000), 'fa', 0, 0, false,
         false, (g * 7919) % 100000, CASE WHEN g % 50 = 0 THEN g % 500 ELSE 0 END, 1, 'R' || g, 0,
         now() - (g % 365) * interval '1 day'
       FROM generate_series(1, :members) g""",
    """INSERT INTO ledger_entries (tenant_id, member_id, account, amount, balance_after, kind, idempotency_key,
         created_at)
       SELECT :t, :first + g % :members, 'member_balance', CASE WHEN g % 3 = 0 THEN -1000 ELSE 2000 END, 1000,
         CASE WHEN g % 3 = 0 THEN 'purchase' ELSE 'topup' END, 'seed:' || g, now() - (g % 365) * interval '1 day'
       FROM generate_series(1, :entries) g""",
    """INSERT INTO receipts (tenant_id, member_id, purpose, amount, tracking_code, status, created_at,
         submitted_at, expires_at, reviewed_at)
       SELECT :t, :first + g, 'topup', 100000, 'SEED-' || g,
         CASE WHEN g % 100 = 0 THEN 'pending_review' WHEN g % 3 = 0 THEN 'rejected' ELSE 'approved' END,
         now() - (g % 365) * interval '1 day', now() - (g % 365) * interval '1 day',
         now() - (g % 365) * interval '1 day' + interval '1 day',
         CASE WHEN g % 100 = 0 THEN NULL ELSE now() - (g % 365) * interval '1 day' + interval '1 hour' END
       FROM generate_series(1, :receipts) g""",
]


@pytest.fixture(scope="module")
def big_tenant(app):
    from app.extensions import db

    with app.app_context():
        tenant = Factories(db).tenant()
        db.session.execute(sa.text(SEED[0]), {"t": tenant.id, "members": MEMBERS})
        first = db.session.scalar(sa.select(sa.func.min(Member.id)).where(Member.tenant_id == tenant.id))
        params = {"t": tenant.id, "first": first, "members": MEMBERS, "entries": LEDGER_ENTRIES, "receipts": RECEIPTS}
        db.session.execute(sa.text(SEED[1]), params)
        db.session.execute(sa.text(SEED[2]), params)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE members, ledger_entries, receipts"))
        yield db, tenant, db.session.get(Member, first + 12_345)
        db.session.remove()
        _empty_all_tables(db)


def _queries(tenant, member) -> dict:
    pending = receipt_queries.ReceiptFilter()
    queries = {f"overview.{k}": q for k, q in overview.overview_queries(tenant).items()}
    queries.update({f"member_page.{k}": q for k, q in member_queries.member_page_queries(member).items()})
    queries.update({
        "member_search.all": member_queries.search_query(tenant),
        "member_search.next_page": member_queries.search_query(tenant, before_id=member.id),
        "member_search.username": member_queries.search_query(tenant, "@USER_1234"),
        "member_search.name": member_queries.search_query(tenant, "name42"),
        "member_search.telegram_id": member_queries.search_query(tenant, str(member.telegram_id)),
        "receipt_queue": receipt_queries.queue_query(tenant, pending),
        "receipt_history": receipt_queries.history_query(tenant, pending),
        "receipt_queue.next_page": receipt_queries.queue_query(tenant, pending, after_id=_a_receipt_id(tenant)),
        "receipt_history.next_page": receipt_queries.history_query(tenant, pending, after_id=_a_receipt_id(tenant)),
        "receipt_by_tracking_code": receipt_queries.tracking_code_query(tenant, "SEED-100"),
        "leaderboard.all_time": leaderboard.top_query(tenant.id, "all", member_queries.LEADERBOARD_SIZE),
        "leaderboard.today": leaderboard.top_query(tenant.id, "today", member_queries.LEADERBOARD_SIZE),
    })
    return queries


def _a_receipt_id(tenant) -> int:
    return sql_db.session.scalar(sa.select(Receipt.id).where(Receipt.tenant_id == tenant.id).order_by(Receipt.id.desc())
                                 .limit(1))


def _seq_scans(plan: dict) -> list[str]:
    found = [plan["Relation Name"]] if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG_TABLES \
        else []
    for child in plan.get("Plans", []):
        found += _seq_scans(child)
    return found


@pytest.mark.postgres
def test_dashboard_queries_use_indexes_on_a_big_tenant(big_tenant):
    db, tenant, member = big_tenant
    problems = {}
    with db.engine.connect() as conn:
        for name, query in _queries(tenant, member).items():
            compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            if _seq_scans(plan):
                problems[name] = json.dumps(plan)[:600]
    assert not problems, problems


@pytest.mark.postgres
def test_the_seed_is_the_size_the_issue_names(big_tenant):
    db, tenant, _ = big_tenant
    counts = [db.session.scalar(sa.text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tenant.id})
              for t in ("members", "ledger_entries", "receipts")]
    assert counts == [MEMBERS, LEDGER_ENTRIES, RECEIPTS]

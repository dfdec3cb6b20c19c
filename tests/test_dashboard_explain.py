"""On a 100,000-member tenant, the dashboard's queries read indexes: no Seq Scan of the big tables, and no
LIMIT-ed page query reads more than MAX_ROWS_READ rows in any plan node (EXPLAIN ANALYZE's actual rows).

The SQL comes from the same query functions the views call. Rows are seeded with bench/seed.py's set-based
SQL, whose usernames are not correlated with ids (a search plan that walks ids backwards shows here).
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db as sql_db
from app.models import Member, Receipt, Tenant
from app.services import leaderboard, member_queries, overview, receipt_queries, sales_charts
from tests.conftest import _empty_all_tables

BIG_TABLES = {"members", "ledger_entries", "receipts", "subscriptions"}
MEMBERS = 100_000
#: A LIMIT-ed page query may read at most this many rows in any plan node: a page is 51 rows, and a prefix
#: matching a few thousand members may be read through its index and sorted (cheaper than walking ids).
#: The search this test once let through read ~87% of the tenant.
MAX_ROWS_READ = 5_000


@pytest.fixture(scope="module")
def big_tenant(app):
    """100,000 members shaped like a real tenant's (bench/seed.py): usernames uncorrelated with ids."""
    from app.extensions import db
    from bench import seed

    with app.app_context():
        tenant_id, _ = seed.seed_tenant("explain-big", MEMBERS, telegram_base=1_000_000_000, salt="explain")
        seed.analyze()
        tenant = db.session.get(Tenant, tenant_id)
        member = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant_id, Member.username.is_not(None))
                                    .order_by(Member.telegram_id).offset(12_345).limit(1)).one()
        yield db, tenant, member
        db.session.remove()
        _empty_all_tables(db)


def _queries(tenant, member) -> dict:
    pending = receipt_queries.ReceiptFilter()
    queries = {f"overview.{k}": q for k, q in overview.overview_queries(tenant).items()}
    queries.update({f"charts.{k}": q for k, q in sales_charts.chart_queries(tenant).items()})
    queries.update({f"member_page.{k}": q for k, q in member_queries.member_page_queries(member).items()})
    queries.update({
        "member_search.all": member_queries.search_query(tenant),
        "member_search.next_page": member_queries.search_query(tenant, before_id=member.id),
        "member_search.username_rare": member_queries.search_query(tenant, "@" + member.username[:9].upper()),
        "member_search.username_common": member_queries.search_query(tenant, member.username[:3]),
        "member_search.name": member_queries.search_query(tenant, member.first_name[:3]),
        "member_search.no_match": member_queries.search_query(tenant, "qqqzzz"),
        "member_search.rare_next_page": member_queries.search_query(tenant, member.username[:9], before_id=member.id),
        "member_search.telegram_id": member_queries.search_query(tenant, str(member.telegram_id)),
        "receipt_queue": receipt_queries.queue_query(tenant, pending),
        "receipt_history": receipt_queries.history_query(tenant, pending),
        "receipt_queue.next_page": receipt_queries.queue_query(tenant, pending, after_id=_a_receipt_id(tenant)),
        "receipt_history.next_page": receipt_queries.history_query(tenant, pending, after_id=_a_receipt_id(tenant)),
        "receipt_by_tracking_code": receipt_queries.tracking_code_query(tenant, "BE-100"),
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


def rows_read(plan: dict) -> int:
    """The most rows any node of an EXPLAIN ANALYZE plan produced or threw away (per loop times loops)."""
    own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
           + plan.get("Rows Removed by Index Recheck", 0)) * max(1, plan.get("Actual Loops", 1))
    return max([own] + [rows_read(child) for child in plan.get("Plans", [])])


def analyzed(conn, query) -> dict:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]


def _is_page(query) -> bool:
    return getattr(query, "_limit_clause", None) is not None


@pytest.mark.postgres
def test_dashboard_queries_use_indexes_on_a_big_tenant(big_tenant):
    db, tenant, member = big_tenant
    problems = {}
    with db.engine.connect() as conn:
        for name, query in _queries(tenant, member).items():
            plan = analyzed(conn, query)
            if _seq_scans(plan):
                problems[name] = json.dumps(plan)[:600]
            elif _is_page(query) and rows_read(plan) > MAX_ROWS_READ:
                problems[name] = f"read {rows_read(plan):,} rows for a page: " + json.dumps(plan)[:600]
    assert not problems, problems


@pytest.mark.postgres
def test_chart_queries_read_only_their_window(big_tenant):
    """The chart queries' plans and times printed for the record (pytest -s); the 30-day top plans sums
    plan_sale_counts, not the window's subscriptions (all of this seed's: they are 20 days old)."""
    db, tenant, _ = big_tenant
    with db.engine.connect() as conn:
        for name, query in sales_charts.chart_queries(tenant).items():
            plan = analyzed(conn, query)
            print(name, plan["Actual Total Time"], "ms", _node_types(plan))
            assert plan["Actual Loops"] == 1 and not _seq_scans(plan), name
            assert name != "top_plans" or "subscriptions" not in _relations(plan)


@pytest.mark.postgres
def test_balance_sales_today_read_only_purchases(big_tenant):
    """The overview's balance sales of the day read the purchases' partial index, not every member-balance entry
    of the day filtered by kind (the seed's are all top-ups: a read of them shows as rows)."""
    db, tenant, _ = big_tenant
    with db.engine.connect() as conn:
        plan = analyzed(conn, overview.overview_queries(tenant)["balance_sales_today"])
    assert "ix_ledger_entries_tenant_purchases" in json.dumps(plan) and rows_read(plan) <= 1, plan


def _relations(plan: dict) -> set[str]:
    return {plan.get("Relation Name")} | {r for child in plan.get("Plans", []) for r in _relations(child)}


def _node_types(plan: dict) -> list[str]:
    return [f"{plan['Node Type']}:{plan.get('Index Name', plan.get('Relation Name', ''))}"] + [
        t for child in plan.get("Plans", []) for t in _node_types(child)]


@pytest.mark.postgres
def test_the_row_bound_catches_a_search_that_walks_the_tenant(big_tenant):
    """The OR-of-prefixes search this test once let through: a backward id scan discarding most members."""
    db, tenant, member = big_tenant
    condition = sa.or_(*member_queries._match(member.username[:9]))
    walking = (sa.select(Member).where(Member.tenant_id == tenant.id, condition)
               .order_by(Member.id.desc()).limit(51))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
        assert rows_read(analyzed(conn, walking)) > MAX_ROWS_READ


@pytest.mark.postgres
def test_the_seed_is_the_size_the_issue_names(big_tenant):
    db, tenant, _ = big_tenant
    counts = [db.session.scalar(sa.text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tenant.id})
              for t in ("members", "receipts")]
    assert counts == [MEMBERS, 20_000]
    with_history = db.session.scalar(sa.text(
        "SELECT count(DISTINCT member_id) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant.id})
    assert 0.25 * MEMBERS < with_history < 0.35 * MEMBERS

"""Moving members in: the three importers on fixtures with dirty rows; re-runs and dry runs."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import BotSession, LedgerEntry, Member, MemberBadge, Promocode, Subscription
from tests import pg

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"
USERS_DDL = """CREATE TABLE users (
    telegram_id BIGINT, telegram_user_name VARCHAR(64), username VARCHAR(64), first_name VARCHAR(128),
    last_name VARCHAR(128), language_code VARCHAR(8), balance DECIMAL(10,2), "VIP_level" INTEGER,
    is_active BOOLEAN, is_newcomer BOOLEAN, created_at TIMESTAMP)"""
USERS = [
    (5001, "amir_t", None, "Amir", "Tehrani", "fa", "120000.00", 2, True, False, "2024-01-02 10:00:00"),
    (5002, None, "neda", "Neda", None, "en-GB", "99.99", 0, True, True, "2024-02-02 10:00:00"),
    (5002, None, "neda_dup", "Neda again", None, "en", "5000.00", 3, True, True, None),
    (None, "ghost", None, "No id", None, "fa", "10.00", 0, True, True, None),
    (5003, None, "minus", "Minus", None, "fa", "-10.00", 0, True, True, None),
    (5004, None, "klaus", "Klaus", None, "de", "0.00", 1, False, True, None),
]


def member_state(db):
    members = db.session.scalars(sa.select(Member).order_by(Member.telegram_id)).all()
    return [(m.telegram_id, m.balance, m.vip_level, m.total_xp, m.language_code) for m in members]


def books_balance(db):
    sums = dict(db.session.execute(sa.select(LedgerEntry.member_id, sa.func.sum(LedgerEntry.amount))
                                   .where(LedgerEntry.member_id.is_not(None)).group_by(LedgerEntry.member_id)).all())
    for member in db.session.scalars(sa.select(Member)):
        assert member.balance == sums.get(member.id, 0), member


@pytest.fixture
def users_table_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _fill_users(url)
    return url


def _fill_users(url):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(USERS_DDL))
        conn.execute(sa.text("INSERT INTO users VALUES (:a,:b,:c,:d,:e,:f,:g,:h,:i,:j,:k)"),
                     [dict(zip("abcdefghijk", row)) for row in USERS])
    engine.dispose()


def test_users_table_import_cleans_merges_and_is_idempotent(runner, db, make, users_table_url):
    tenant = make.tenant(slug="shop")
    existing = make.member(tenant, telegram_id=5004, first_name=None, vip_level=0)
    args = ["import", "members", "--from", "users-table", "--source", users_table_url, "--tenant", "shop"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])
    assert (report["read"], report["imported"], report["updated"], report["skipped"]) == (6, 2, 1, 3)
    assert report["credited_toman"] == 120_000 + 99
    assert "rounded down" in result.output and "negative" in result.output and "duplicate" in result.output
    db.session.expire_all()
    assert member_state(db) == [(5001, 120_000, 2, 0, "fa"), (5002, 99, 0, 0, "en"), (5004, 0, 1, 0, None)]
    assert db.session.get(Member, existing.id).first_name == "Klaus"
    books_balance(db)

    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert member_state(db) == [(5001, 120_000, 2, 0, "fa"), (5002, 99, 0, 0, "en"), (5004, 0, 1, 0, None)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 2


def test_a_new_member_whose_opening_key_is_taken_keeps_no_balance(runner, db, make, users_table_url):
    """New members are inserted holding their opening balance; an entry not written takes it back."""
    from app.services import ledger

    tenant = make.tenant(slug="shop")
    other = make.member(tenant, telegram_id=9001)
    ledger.credit_member(other, 7, key="import:users-table:5001:opening", kind="adjustment", actor="system")
    db.session.commit()
    result = runner.invoke(args=["import", "members", "--from", "users-table", "--source", users_table_url,
                                 "--tenant", "shop"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Member.balance).where(Member.telegram_id == 5001)) == 0
    assert db.session.scalar(sa.select(Member.balance).where(Member.telegram_id == 5002)) == 99
    books_balance(db)


def test_dry_run_writes_nothing(runner, db, make, users_table_url):
    make.tenant(slug="shop")
    result = runner.invoke(args=["import", "members", "--from", "users-table", "--source", users_table_url,
                                 "--tenant", "shop", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "DRY RUN" in result.output and '"imported": 3' in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0


@pytest.mark.postgres
def test_users_table_from_a_postgres_database(runner, db, make):
    """The first plan's table, exactly its shape, in a throwaway Postgres database."""
    make.tenant(slug="shop")
    with pg.fresh_database(f"botfleet_import_{uuid.uuid4().hex[:10]}") as url:
        _fill_users(url)
        result = runner.invoke(args=["import", "members", "--from", "users-table", "--source", url, "--tenant", "shop"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert member_state(db) == [(5001, 120_000, 2, 0, "fa"), (5002, 99, 0, 0, "en"), (5004, 0, 1, 0, None)]
    books_balance(db)


def test_users_json_with_sessions_badges_xp_and_referrals(runner, db, make):
    tenant = make.tenant(slug="shop")
    main_bot = make.bot(tenant, username="vpn_main_bot")
    master = make.bot(tenant, username="master_bot")
    args = ["import", "members", "--from", "users-json", "--source", str(DATA / "users_data.json"),
            "--tenant", "shop", "--bot", str(master.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "unknown badge 'Galaxy brain'" in result.output
    db.session.expire_all()
    by_tg = {m.telegram_id: m for m in db.session.scalars(sa.select(Member))}
    assert sorted(by_tg) == [1001, 1002, 1004, 1005]
    sara = by_tg[1001]
    assert (sara.balance, sara.total_xp, sara.language_code) == (15_000, 1250, "fa") and sara.level > 1
    assert by_tg[1002].balance == 2500 and by_tg[1002].language_code == "ru"
    assert by_tg[1004].first_name is None and by_tg[1004].referred_by_id == sara.id
    assert by_tg[1005].referred_by_id is None
    badges = set(db.session.scalars(sa.select(MemberBadge.badge_code).where(MemberBadge.member_id == sara.id)))
    assert badges == {"first_purchase", "streak_7"}
    sessions = {s.bot_id: s for s in db.session.scalars(sa.select(BotSession).where(BotSession.member_id == sara.id))}
    assert sessions[main_bot.id].stats_data == {"requests": 41}
    assert sessions[master.id].session_data == {"model": "gpt"}
    books_balance(db)

    snapshot = member_state(db)
    assert runner.invoke(args=args).exit_code == 0
    db.session.expire_all()
    assert member_state(db) == snapshot
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberBadge)) == 2


BEDOLAGA_DDL = [
    """CREATE TABLE users (id INTEGER PRIMARY KEY, telegram_id BIGINT, username VARCHAR(255),
       first_name VARCHAR(255), last_name VARCHAR(255), status VARCHAR(20), language VARCHAR(5),
       balance_kopeks INTEGER, referred_by_id INTEGER, has_had_paid_subscription BOOLEAN, created_at TIMESTAMP)""",
    """CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, user_id INTEGER, status VARCHAR(20), is_trial BOOLEAN,
       start_date TIMESTAMP, end_date TIMESTAMP, traffic_limit_gb INTEGER, traffic_used_gb FLOAT)""",
    """CREATE TABLE transactions (id INTEGER PRIMARY KEY, user_id INTEGER, type VARCHAR(50), amount_kopeks INTEGER,
       description TEXT, payment_method VARCHAR(50), is_completed BOOLEAN, created_at TIMESTAMP)""",
    """CREATE TABLE promocodes (id INTEGER PRIMARY KEY, code VARCHAR(50), type VARCHAR(50),
       balance_bonus_kopeks INTEGER, subscription_days INTEGER, max_uses INTEGER, current_uses INTEGER,
       valid_until TIMESTAMP, is_active BOOLEAN)""",
]
BEDOLAGA_ROWS = {
    "users": [
        {"id": 1, "telegram_id": 7001, "username": "boris", "first_name": "Boris", "last_name": None,
         "status": "active", "language": "ru", "balance_kopeks": 15050, "referred_by_id": None,
         "has_had_paid_subscription": True, "created_at": "2025-01-01 00:00:00"},
        {"id": 2, "telegram_id": 7002, "username": "lena", "first_name": "Lena", "last_name": "K",
         "status": "active", "language": "en", "balance_kopeks": 0, "referred_by_id": 1,
         "has_had_paid_subscription": False, "created_at": "2025-02-01 00:00:00"},
        {"id": 3, "telegram_id": None, "username": "web", "first_name": "Email only", "last_name": None,
         "status": "active", "language": "ru", "balance_kopeks": 100, "referred_by_id": None,
         "has_had_paid_subscription": False, "created_at": None},
    ],
    "subscriptions": [
        {"id": 1, "user_id": 1, "status": "active", "is_trial": False, "start_date": "2026-11-01 00:00:00",
         "end_date": "2099-01-01 00:00:00", "traffic_limit_gb": 50, "traffic_used_gb": 1.5},
        {"id": 2, "user_id": 2, "status": "expired", "is_trial": True, "start_date": "2025-02-01 00:00:00",
         "end_date": "2025-02-04 00:00:00", "traffic_limit_gb": 0, "traffic_used_gb": 0},
    ],
    "transactions": [
        {"id": 1, "user_id": 1, "type": "deposit", "amount_kopeks": 50000, "description": "top-up",
         "payment_method": "yookassa", "is_completed": True, "created_at": "2025-01-02 00:00:00"},
        {"id": 2, "user_id": 1, "type": "subscription_payment", "amount_kopeks": -30000, "description": "30 days",
         "payment_method": "balance", "is_completed": True, "created_at": "2025-01-03 00:00:00"},
        {"id": 3, "user_id": 1, "type": "deposit", "amount_kopeks": 99900, "description": "never paid",
         "payment_method": "yookassa", "is_completed": False, "created_at": "2025-01-04 00:00:00"},
    ],
    "promocodes": [
        {"id": 1, "code": "welcome", "type": "balance", "balance_bonus_kopeks": 10000, "subscription_days": 0,
         "max_uses": 100, "current_uses": 3, "valid_until": None, "is_active": True},
        {"id": 2, "code": "week", "type": "subscription_days", "balance_bonus_kopeks": 0, "subscription_days": 7,
         "max_uses": 10, "current_uses": 0, "valid_until": None, "is_active": True},
        {"id": 3, "code": "group", "type": "promo_group", "balance_bonus_kopeks": 0, "subscription_days": 0,
         "max_uses": 1, "current_uses": 0, "valid_until": None, "is_active": True},
    ],
}


@pytest.fixture
def bedolaga_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'bedolaga.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for ddl in BEDOLAGA_DDL:
            conn.execute(sa.text(ddl))
        for table, rows in BEDOLAGA_ROWS.items():
            columns = list(rows[0])
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                 f"({', '.join(':' + c for c in columns)})"), rows)
    engine.dispose()
    return url


def test_bedolaga_import_moves_users_money_subscriptions_promos_referrals(runner, db, make, bedolaga_url):
    tenant = make.tenant(slug="shop")
    master = make.bot(tenant, username="master_bot")
    args = ["import", "members", "--from", "bedolaga", "--source", bedolaga_url, "--tenant", "shop",
            "--bot", str(master.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    by_tg = {m.telegram_id: m for m in db.session.scalars(sa.select(Member))}
    assert sorted(by_tg) == [7001, 7002]
    boris, lena = by_tg[7001], by_tg[7002]
    assert boris.balance == 150 and lena.balance == 0 and lena.referred_by_id == boris.id
    kinds = sorted(db.session.execute(sa.select(LedgerEntry.kind, LedgerEntry.amount)
                                      .where(LedgerEntry.member_id == boris.id)).all())
    assert kinds == [("imported", -300), ("imported", 500), ("opening_balance", -50)]
    books_balance(db)
    subs = {s.member_id: s for s in db.session.scalars(sa.select(Subscription))}
    assert subs[boris.id].status == "active" and subs[boris.id].traffic_limit_bytes == 50 * 1024**3
    assert subs[lena.id].status == "expired" and subs[lena.id].traffic_limit_bytes is None
    promos = {p.code: (p.kind, p.value, p.uses_count) for p in db.session.scalars(sa.select(Promocode))}
    assert promos == {"WELCOME": ("balance", 100, 3), "WEEK": ("plan_days", 7, 0)}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BotSession)
                             .where(BotSession.bot_id == master.id)) == 2

    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m))
              for m in (Member, LedgerEntry, Subscription, Promocode)]
    assert runner.invoke(args=args).exit_code == 0
    db.session.expire_all()
    assert [db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Member, LedgerEntry, Subscription, Promocode)] == counts
    assert db.session.get(Member, boris.id).balance == 150


def test_unknown_tenant_or_bot_is_a_clear_error(runner, db, make, users_table_url):
    other = make.tenant(slug="other")
    foreign_bot = make.bot(other)
    make.tenant(slug="shop")
    base = ["import", "members", "--from", "users-table", "--source", users_table_url]
    assert "No tenant" in runner.invoke(args=base + ["--tenant", "nope"]).output
    result = runner.invoke(args=base + ["--tenant", "shop", "--bot", str(foreign_bot.id)])
    assert result.exit_code != 0 and "has no bot" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0


def test_dashboard_upload_dry_run_then_import(client, db, make, auth):
    from io import BytesIO

    from tests.helpers import csrf_token

    owner = make.account()
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant, username="vpn_main_bot")
    db.session.commit()
    auth.login(owner.email)
    auth.use_language("en")
    raw = (DATA / "users_data.json").read_bytes()

    def upload(dry_run: bool, content: bytes = raw):
        token = csrf_token(client.get("/import/"))
        data = {"csrf_token": token, "bot_id": str(bot.id), "document": (BytesIO(content), "users_data.json")}
        if dry_run:
            data["dry_run"] = "y"
        return client.post("/import/", data=data, content_type="multipart/form-data")

    page = upload(True)
    assert page.status_code == 200 and "nothing was written" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0
    page = upload(False)
    assert page.status_code == 200 and 'id="import-report"' in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 4
    bad = upload(False, b"{not json")
    assert bad.status_code == 400 and "not a users_data.json" in bad.get_data(as_text=True)

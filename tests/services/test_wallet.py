from datetime import timedelta

import pytest

from app.models import AuditLog, DailyStat, LedgerEntry, Member, PlatformSetting, Tenant, utcnow
from app.services import subscriptions, wallet, xp
from app.services.clock import tenant_today as local_today
from app.services.errors import InvalidAmount, NotFound, ValidationFailed
from tests.services.money_helpers import assert_books_balance, count

GB = 1024 ** 3


def test_wholesale_prices_default_to_zero_and_can_be_set(db):
    assert wallet.wholesale_prices() == {"per_gb": 0, "percent": 0}
    wallet.set_wholesale_prices(2_000, 7, actor="account:1")
    wallet.set_wholesale_prices(2_500, 8)
    db.session.commit()
    assert wallet.wholesale_prices() == {"per_gb": 2_500, "percent": 8}
    # one declared platform setting per price; each change is audited
    assert count(db, PlatformSetting) == 2 and count(db, AuditLog, action="platform.settings") == 2


@pytest.mark.parametrize("per_gb,percent", [(-1, 0), (0, 101), (0, -1), (1.5, 0), (0, "five"), (True, 0)])
def test_bad_wholesale_prices_are_refused(db, per_gb, percent):
    with pytest.raises(ValidationFailed):
        wallet.set_wholesale_prices(per_gb, percent)


def test_wholesale_cost_adds_per_gb_and_percent(db, make):
    tenant = make.tenant()
    prices = {"per_gb": 1_000, "percent": 10}
    assert wallet.wholesale_cost(make.plan(tenant, price=155_555, traffic_gb=30), prices) == 30_000 + 15_555
    assert wallet.wholesale_cost(make.plan(tenant, price=100_000), prices) == 10_000


def test_topup_wallet_is_a_ledger_entry_and_idempotent(db, make):
    tenant = make.tenant()
    first = wallet.topup_wallet(tenant, 500_000, key="topup:1", actor="account:1")
    again = wallet.topup_wallet(tenant, 500_000, key="topup:1", actor="account:1")
    db.session.commit()
    assert first.id == again.id and (first.account, first.kind) == ("tenant_wallet", "wallet_topup")
    assert db.session.get(Tenant, tenant.id).wallet_balance == 500_000
    with pytest.raises(InvalidAmount):
        wallet.topup_wallet(tenant, 0, key="topup:2", actor="account:1")


def test_charge_sale_debits_and_counts_traffic_sold(db, make):
    tenant = make.tenant()
    wallet.topup_wallet(tenant, 100_000, key="t", actor="system")
    wallet.set_wholesale_prices(1_000, 0)
    plan = make.plan(tenant, traffic_gb=12)
    entry = wallet.charge_sale(tenant, plan, key="sale:1")
    again = wallet.charge_sale(tenant, plan, key="sale:1")
    db.session.commit()
    tenant = db.session.get(Tenant, tenant.id)
    assert (entry.id, entry.amount, entry.kind) == (again.id, -12_000, "wholesale")
    assert (tenant.wallet_balance, tenant.traffic_sold_bytes) == (88_000, 12 * GB)
    assert db.session.query(DailyStat).one().traffic_sold_bytes == 12 * GB
    with pytest.raises(NotFound):
        wallet.charge_sale(make.tenant(), plan, key="sale:2")
    assert_books_balance(db)


def test_free_sale_charges_nothing_but_counts_traffic(db, make):
    tenant = make.tenant()
    assert wallet.charge_sale(tenant, make.plan(tenant, traffic_gb=3), key="s") is None
    db.session.commit()
    assert db.session.get(Tenant, tenant.id).traffic_sold_bytes == 3 * GB and count(db, LedgerEntry) == 0


def test_traffic_consumption_counts_per_day_and_ignores_unmetered_limits(db, make):
    tenant = make.tenant()
    sub = subscriptions.grant_or_extend(make.member(tenant), make.plan(tenant), source="grant")
    wallet.record_traffic_consumption(sub, 5 * GB)
    wallet.record_traffic_consumption(sub, 0)
    db.session.commit()
    assert (sub.status, sub.traffic_used_bytes, sub.traffic_limit_bytes) == ("active", 5 * GB, None)
    stat = db.session.query(DailyStat).one()
    assert (stat.day, stat.traffic_consumed_bytes) == (local_today(tenant), 5 * GB)


def test_wallet_stats_per_day(db, make):
    tenant = make.tenant(wallet_credit_limit=1_000)
    wallet.topup_wallet(tenant, 50_000, key="t", actor="system")
    wallet.set_wholesale_prices(1_000, 0)
    plan = make.plan(tenant, traffic_gb=2)
    wallet.charge_sale(tenant, plan, key="s1")
    sub = subscriptions.grant_or_extend(make.member(tenant), plan, source="grant")
    wallet.record_traffic_consumption(sub, GB)
    db.session.add(DailyStat(tenant_id=tenant.id, day=local_today(tenant) - timedelta(days=3),
                             traffic_sold_bytes=7, traffic_consumed_bytes=5))
    db.session.commit()
    stats = wallet.wallet_stats(tenant, days=7)
    assert (stats["balance"], stats["credit_limit"], stats["traffic_sold_bytes"]) == (48_000, 1_000, 2 * GB)
    assert len(stats["days"]) == 7 and stats["days"][-1]["day"] == local_today(tenant)
    assert stats["days"][-1] == {"day": local_today(tenant), "sold_bytes": 2 * GB, "consumed_bytes": GB,
                                      "charged": 2_000, "topped_up": 50_000}
    assert (stats["days"][3]["sold_bytes"], stats["days"][3]["consumed_bytes"]) == (7, 5)
    assert wallet.wallet_stats(make.tenant(), days=7)["days"][-1]["sold_bytes"] == 0


def test_purchase_xp_rate_is_per_tenant(db, make):
    tenant = make.tenant()
    assert xp.purchase_xp(tenant, 99_999) == 9
    tenant.settings = {"xp_per_10000_toman": 3}
    assert xp.purchase_xp(tenant, 100_000) == 30
    member = make.member(tenant)
    xp.add_xp(member, 12)
    xp.add_xp(member, 0)
    db.session.commit()
    assert (db.session.get(Member, member.id).total_xp, member.xp_today) == (12, 12)


def test_subscription_expiry_uses_the_clock(db, make):
    tenant = make.tenant()
    sub = subscriptions.grant_or_extend(make.member(tenant), make.plan(tenant, period_days=1), source="grant")
    assert subscriptions.expire_due(tenant, now=utcnow() + timedelta(hours=23)) == []
    assert subscriptions.expire_due(tenant, now=utcnow() + timedelta(hours=25)) == [sub]

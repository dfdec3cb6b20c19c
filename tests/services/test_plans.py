from datetime import timedelta

import pytest

from app.models import AuditLog, Member, Plan, Subscription, Tenant, TenantNotice, utcnow
from app.services import plans, subscriptions, wallet
from app.services.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientFunds,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from app.services.wallet import WalletInsufficient
from tests.services.money_helpers import assert_books_balance, count, snapshot

GB = 1024 ** 3


def test_create_plan_lists_it_last(db, make):
    tenant = make.tenant()
    a = plans.create_plan(tenant, name=" Bronze ", period_days=30, price=150_000, traffic_gb=50)
    b = plans.create_plan(tenant, name="Gold", period_days=90, price=390_000, description="  ")
    assert (a.name, a.sort_order, b.sort_order, b.description, b.traffic_gb) == ("Bronze", 1, 2, None, None)
    assert [p.id for p in plans.active_plans(tenant)] == [a.id, b.id]


@pytest.mark.parametrize("fields", [
    dict(name=""), dict(name="x" * 101), dict(period_days=0), dict(period_days=1.5), dict(price=0),
    dict(price=-1), dict(price=1_000_000_001), dict(traffic_gb=0), dict(daily_request_quota=-1),
])
def test_plan_validation_writes_nothing(db, make, fields):
    tenant = make.tenant()
    with pytest.raises(DomainError):
        plans.create_plan(tenant, **(dict(name="P", period_days=30, price=1_000) | fields))
    db.session.rollback()
    assert count(db, Plan) == 0


def test_update_archive_reorder(db, make):
    tenant = make.tenant()
    a, b, c = (plans.create_plan(tenant, name=n, period_days=30, price=1_000) for n in "ABC")
    plans.update_plan(a, price=2_000, name="A+")
    assert (a.price, a.name) == (2_000, "A+")
    with pytest.raises(ValidationFailed):
        plans.update_plan(a, tenant_id=99)
    plans.reorder_plans(tenant, [c.id, a.id])
    assert [p.id for p in plans.active_plans(tenant)] == [c.id, a.id, b.id]
    plans.archive_plan(c)
    assert [p.id for p in plans.active_plans(tenant)] == [a.id, b.id]
    with pytest.raises(NotFound):
        plans.reorder_plans(tenant, [a.id, make.plan(make.tenant()).id])
    with pytest.raises(NotFound):
        plans.get_plan(make.tenant(), a.id)


def test_purchase_from_balance(db, make):
    tenant = make.tenant()
    member = make.member(tenant, balance=500_000)
    plan = make.plan(tenant, price=200_000, period_days=30, traffic_gb=10)
    subscription = plans.purchase_from_balance(member, plan, key="tg:1:buy", actor="telegram:1")
    db.session.commit()
    member = db.session.get(Member, member.id)
    assert member.balance == 300_000 and not member.is_newcomer and member.total_xp == 20
    assert (subscription.status, subscription.source, subscription.traffic_limit_bytes) == ("active", "balance", 10 * GB)
    assert subscription.ends_at - subscription.starts_at == timedelta(days=30)
    assert_books_balance(db)


def test_buying_the_plan_you_hold_extends_it(db, make):
    tenant = make.tenant()
    member = make.member(tenant, balance=500_000)
    plan = make.plan(tenant, price=100_000, period_days=30, traffic_gb=10)
    first = plans.purchase_from_balance(member, plan, key="b1", actor="system")
    ends = first.ends_at
    second = plans.purchase_from_balance(member, plan, key="b2", actor="system")
    assert second.id == first.id
    assert (second.ends_at - ends, second.traffic_limit_bytes) == (timedelta(days=30), 20 * GB)
    assert count(db, Subscription) == 1 and db.session.get(Member, member.id).balance == 300_000


def test_a_repeated_purchase_key_buys_once(db, make):
    tenant = make.tenant()
    member = make.member(tenant, balance=500_000)
    plan = make.plan(tenant, price=100_000)
    first = plans.purchase_from_balance(member, plan, key="upd:7", actor="system")
    again = plans.purchase_from_balance(member, plan, key="upd:7", actor="system")
    assert again.id == first.id and db.session.get(Member, member.id).balance == 400_000
    with pytest.raises(IdempotencyConflict):
        plans.purchase_from_balance(member, make.plan(tenant, price=5_000), key="upd:7", actor="system")


def _refused(db, tenant, call, error):
    db.session.commit()
    before = snapshot(db, tenant.id)
    with pytest.raises(error):
        call()
    db.session.rollback()
    assert snapshot(db, tenant.id) == before


def test_purchase_refusals_write_nothing(db, make):
    tenant = make.tenant()
    member = make.member(tenant, balance=50_000)
    plan = make.plan(tenant, price=100_000)
    _refused(db, tenant, lambda: plans.purchase_from_balance(member, plan, key="k", actor="s"), InsufficientFunds)
    _refused(db, tenant, lambda: plans.purchase_from_balance(member, make.plan(make.tenant(), price=1_000),
                                                             key="k", actor="s"), NotFound)
    cheap = make.plan(tenant, price=1_000, is_archived=True)
    _refused(db, tenant, lambda: plans.purchase_from_balance(member, cheap, key="k", actor="s"), ValidationFailed)
    banned = make.member(tenant, balance=10_000, is_banned=True)
    cheap2 = make.plan(tenant, price=1_000)
    _refused(db, tenant, lambda: plans.purchase_from_balance(banned, cheap2, key="k", actor="s"), NotAllowed)


def test_a_sale_the_wallet_cannot_cover_is_refused_with_an_alert_only(db, make):
    tenant = make.tenant(wallet_credit_limit=5_000)
    member = make.member(tenant, balance=500_000)
    plan = make.plan(tenant, price=100_000, traffic_gb=1)
    wallet.set_wholesale_prices(6_000, 0)
    db.session.commit()
    before = snapshot(db, tenant.id)
    with pytest.raises(WalletInsufficient, match="cannot be sold right now"):
        plans.purchase_from_balance(member, plan, key="k", actor="telegram:1")
    db.session.commit()  # the bot commits after telling the member: the owner's alert stays
    after = snapshot(db, tenant.id)
    assert after | {"audit": 0, "notices": 0} == before | {"audit": 0, "notices": 0}
    assert count(db, TenantNotice, kind="wallet_insufficient") == 1
    assert count(db, AuditLog, action="wallet.sale_refused") == 1
    with pytest.raises(WalletInsufficient):
        plans.purchase_from_balance(member, plan, key="k2", actor="telegram:1")
    assert count(db, TenantNotice, kind="wallet_insufficient") == 1  # one unread notice is enough


def test_within_the_credit_limit_the_sale_goes_through(db, make):
    tenant = make.tenant(wallet_credit_limit=5_000)
    member = make.member(tenant, balance=500_000)
    plan = make.plan(tenant, price=100_000, traffic_gb=1)
    wallet.set_wholesale_prices(5_000, 0)
    plans.purchase_from_balance(member, plan, key="k", actor="system")
    db.session.commit()
    assert db.session.get(Tenant, tenant.id).wallet_balance == -5_000
    assert_books_balance(db)


def test_archived_plan_stays_on_its_subscriptions(db, make):
    tenant = make.tenant()
    member = make.member(tenant, balance=100_000)
    plan = make.plan(tenant, price=100_000)
    subscription = plans.purchase_from_balance(member, plan, key="k", actor="system")
    plans.archive_plan(plan)
    db.session.commit()
    assert db.session.get(Subscription, subscription.id).plan.name == plan.name
    assert subscriptions.active_subscription(member).id == subscription.id


def test_grant_or_extend_and_expiry(db, make):
    tenant = make.tenant()
    member = make.member(tenant)
    plan, other = make.plan(tenant, period_days=30), make.plan(tenant, period_days=7)
    granted = subscriptions.grant_or_extend(member, plan, source="grant", days=10)
    assert granted.ends_at - granted.starts_at == timedelta(days=10)
    other_sub = subscriptions.grant_or_extend(member, other, source="promocode")
    assert other_sub.id != granted.id
    assert subscriptions.active_subscription(member).id == granted.id
    with pytest.raises(ValidationFailed):
        subscriptions.grant_or_extend(member, plan, source="gift")
    with pytest.raises(ValidationFailed):
        subscriptions.grant_or_extend(member, plan, source="grant", days=0)
    with pytest.raises(NotFound):
        subscriptions.grant_or_extend(member, make.plan(make.tenant()), source="grant")
    db.session.commit()
    assert subscriptions.expire_due(tenant) == []
    assert subscriptions.expire_due(make.tenant(), now=utcnow() + timedelta(days=40)) == []
    due = subscriptions.expire_due(tenant, now=utcnow() + timedelta(days=8))
    assert [s.id for s in due] == [other_sub.id] and other_sub.status == "expired"
    renewed = subscriptions.grant_or_extend(member, other, source="grant")
    assert renewed.id != other_sub.id  # an expired subscription is not extended


def test_traffic_consumption_limits_the_subscription(db, make):
    tenant = make.tenant()
    member = make.member(tenant)
    plan = make.plan(tenant, traffic_gb=1)
    sub = subscriptions.grant_or_extend(member, plan, source="grant")
    wallet.record_traffic_consumption(sub, GB - 1)
    assert sub.status == "active"
    wallet.record_traffic_consumption(sub, 1)
    db.session.commit()
    assert (sub.status, sub.traffic_used_bytes) == ("limited", GB)
    assert db.session.get(Tenant, tenant.id).traffic_consumed_bytes == GB
    assert subscriptions.active_subscription(member) is None
    extended = subscriptions.grant_or_extend(member, plan, source="grant")  # more traffic: active again
    assert (extended.id, extended.status, extended.traffic_limit_bytes) == (sub.id, "active", 2 * GB)
    with pytest.raises(ValidationFailed):
        wallet.record_traffic_consumption(sub, -1)

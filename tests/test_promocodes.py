import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import Member, Promocode, PromocodeRedemption, Subscription, utcnow
from app.services import ledger, plans, promocodes, subscriptions, wallet
from app.services.errors import NotFound, ValidationFailed
from app.services.promocodes import PromocodeRefused


@pytest.fixture
def tenant(db, make):
    tenant = make.tenant()
    wallet.topup_wallet(tenant, 5_000_000, key="seed", actor="system")
    db.session.commit()
    return tenant


def code(tenant, kind="balance", value=20_000, **kw):
    promocode = promocodes.create_promocode(tenant, code=kw.pop("code", f"{kind}-{value}"), kind=kind,
                                            value=value, **kw)
    return promocode


def test_balance_code_credits_through_the_ledger_once(db, make, tenant):
    member = make.member(tenant)
    promocode = code(tenant, code="Welcome20")
    redemption = promocodes.redeem(member, " welcome20 ")
    db.session.commit()
    assert db.session.get(Member, member.id).balance == 20_000
    entry = ledger.find_entry(tenant.id, f"promo:{promocode.id}:{member.id}")
    assert (entry.amount, entry.kind, redemption.promocode_id) == (20_000, "promocode", promocode.id)
    assert db.session.get(Promocode, promocode.id).uses_count == 1


def test_code_is_stored_upper_case_and_matched_in_any_case(db, tenant):
    assert code(tenant, code="spring-Sale").code == "SPRING-SALE"
    assert promocodes.find(tenant, "Spring-sale").code == "SPRING-SALE"


def test_a_member_redeems_a_code_once(db, make, tenant):
    member = make.member(tenant)
    code(tenant, code="ONCE")
    promocodes.redeem(member, "once")
    with pytest.raises(PromocodeRefused, match="already used"):
        promocodes.redeem(member, "ONCE")
    assert db.session.get(Member, member.id).balance == 20_000


def test_max_uses_is_never_exceeded(db, make, tenant):
    code(tenant, code="TWO", max_uses=2)
    for _ in range(2):
        promocodes.redeem(make.member(tenant), "TWO")
    with pytest.raises(PromocodeRefused, match="used up"):
        promocodes.redeem(make.member(tenant), "TWO")


def test_expired_code_is_refused(db, make, tenant):
    promocode = code(tenant, code="OLD", expires_at=utcnow() + timedelta(hours=1))
    promocode.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(PromocodeRefused, match="expired"):
        promocodes.redeem(make.member(tenant), "OLD")


def test_disabled_code_is_refused(db, make, tenant):
    promocodes.disable(code(tenant, code="OFF"))
    with pytest.raises(PromocodeRefused, match="no longer active"):
        promocodes.redeem(make.member(tenant), "OFF")


def test_another_tenants_code_does_not_exist_here(db, make, tenant):
    code(tenant, code="MINE")
    with pytest.raises(NotFound):
        promocodes.redeem(make.member(make.tenant()), "MINE")


def test_xp_code_awards_xp_and_reports_the_level_up(db, make, tenant):
    member = make.member(tenant)
    code(tenant, kind="xp", value=150, code="XP150")
    redemption = promocodes.redeem(member, "xp150")
    assert (member.total_xp, redemption.level_change.new_level) == (150, 2)


def test_plan_days_code_grants_then_extends_the_plan(db, make, tenant):
    plan = make.plan(tenant, period_days=30)
    first, second = make.member(tenant), make.member(tenant)
    held = subscriptions.grant_or_extend(second, plan, source="grant")
    ends = held.ends_at
    code(tenant, kind="plan_days", value=7, plan=plan, code="WEEK")
    promocodes.redeem(first, "WEEK")
    promocodes.redeem(second, "WEEK")
    db.session.commit()
    granted = db.session.scalar(sa.select(Subscription).where(Subscription.member_id == first.id))
    assert (granted.source, granted.ends_at - granted.starts_at) == ("promocode", timedelta(days=7))
    assert db.session.get(Subscription, held.id).ends_at == ends + timedelta(days=7)


def test_discount_is_spent_once_on_the_next_balance_purchase(db, make, tenant):
    plan = make.plan(tenant, price=100_000)
    member = make.member(tenant, balance=200_000)
    code(tenant, kind="discount_percent", value=25, code="QUARTER")
    promocodes.redeem(member, "QUARTER")
    assert promocodes.pending_discount(member) == 25
    plans.purchase_from_balance(member, plan, key="buy-1", actor="system")
    assert (member.balance, promocodes.pending_discount(member)) == (125_000, 0)
    plans.purchase_from_balance(member, plan, key="buy-2", actor="system")
    assert member.balance == 25_000
    assert plans.purchase_from_balance(member, plan, key="buy-1", actor="system") is not None


def test_the_best_pending_discount_is_spent_first(db, make, tenant):
    member = make.member(tenant)
    code(tenant, kind="discount_percent", value=10, code="TEN")
    code(tenant, kind="discount_percent", value=30, code="THIRTY")
    promocodes.redeem(member, "TEN")
    promocodes.redeem(member, "THIRTY")
    assert promocodes.consume_discount(member, make.plan(tenant, price=1_000)) == 700
    assert promocodes.pending_discount(member) == 10


def test_discounted_price_rounds_and_never_reaches_zero():
    assert promocodes.discounted_price(99_999, 33) == 66_999
    assert promocodes.discounted_price(1, 99) == 1
    assert promocodes.discounted_price(5_000, 0) == 5_000


@pytest.mark.parametrize("kwargs", [
    dict(code="ab"), dict(code="has space"), dict(kind="gift"), dict(value=0), dict(value=True),
    dict(kind="discount_percent", value=100), dict(kind="plan_days", value=7), dict(max_uses=0),
    dict(expires_at=utcnow() - timedelta(minutes=1)),
])
def test_bad_codes_are_refused(db, tenant, kwargs):
    fields = dict(code="GOOD", kind="balance", value=1_000) | kwargs
    with pytest.raises(ValidationFailed):
        promocodes.create_promocode(tenant, **fields)


def test_duplicate_code_in_any_case_is_refused(db, tenant):
    code(tenant, code="SAME")
    with pytest.raises(ValidationFailed, match="already"):
        code(tenant, code="same")


def test_plan_of_another_tenant_is_refused(db, make, tenant):
    with pytest.raises(ValidationFailed):
        code(tenant, kind="plan_days", value=7, plan=make.plan(make.tenant()))


def test_redemptions_are_listed_for_the_dashboard(db, make, tenant):
    promocode = code(tenant, code="LIST")
    members = [make.member(tenant) for _ in range(3)]
    for member in members:
        promocodes.redeem(member, "LIST")
    assert [r.member_id for r in promocodes.redemptions_of(promocode)] == [m.id for m in reversed(members)]
    assert [r.member_id for r in promocodes.redemptions_of(promocode, limit=2)] == [members[2].id, members[1].id]
    assert [p.code for p in promocodes.list_promocodes(tenant)] == ["LIST"]


def _redeem_concurrently(app, member_ids, text):
    from app.extensions import db as _db

    outcomes, barrier = [], threading.Barrier(len(member_ids), timeout=30)

    def worker(member_id):
        barrier.wait()  # before taking a connection: the pool holds fewer than 20
        with app.app_context():
            try:
                promocodes.redeem(_db.session.get(Member, member_id), text)
                _db.session.commit()
                outcomes.append("ok")
            except PromocodeRefused:
                _db.session.rollback()
                outcomes.append("refused")
            except Exception as err:  # noqa: BLE001 - reported by the test
                _db.session.rollback()
                outcomes.append(repr(err))

    threads = [threading.Thread(target=worker, args=(m,)) for m in member_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_twenty_concurrent_redemptions_never_pass_max_uses(app, db, make, tenant):
    promocode = code(tenant, code="RUSH", max_uses=5)
    db.session.commit()
    member_ids = [make.member(tenant).id for _ in range(20)]
    outcomes = _redeem_concurrently(app, member_ids, "rush")
    assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 15
    db.session.expire_all()
    assert db.session.get(Promocode, promocode.id).uses_count == 5
    assert db.session.scalar(sa.select(sa.func.count(PromocodeRedemption.id))) == 5
    assert db.session.scalar(sa.select(sa.func.sum(Member.balance))) == 5 * 20_000


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_one_member_redeeming_twenty_times_at_once_gets_it_once(app, db, make, tenant):
    code(tenant, code="GREEDY")
    db.session.commit()
    member_id = make.member(tenant).id
    outcomes = _redeem_concurrently(app, [member_id] * 20, "GREEDY")
    assert sorted(outcomes) == ["ok"] + ["refused"] * 19
    db.session.expire_all()
    assert db.session.get(Member, member_id).balance == 20_000

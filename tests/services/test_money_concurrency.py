"""The acceptance tests of the money issue: real threads against Postgres row locks."""
import random
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from app.models import (
    Account,
    AuditLog,
    LedgerEntry,
    Member,
    PaymentCard,
    Plan,
    Receipt,
    Role,
    Subscription,
    Tenant,
)
from app.services import ledger, plans, receipts, subscriptions, wallet
from app.services.clock import tenant_today as local_today
from app.services.errors import DomainError
from app.services.receipts import Reviewer
from tests.services.money_helpers import assert_books_balance, count

pytestmark = pytest.mark.postgres


def run_threads(app, n, work):
    """Run work(i) in n threads, each in its own app context (own session), started together."""
    barrier, errors = threading.Barrier(n), []

    def body(i):
        with app.app_context():
            from app.extensions import db
            barrier.wait()
            try:
                work(i)
            except BaseException as err:  # noqa: BLE001 - re-raised below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


@pytest.mark.timeout(120)
def test_fifty_concurrent_approvals_credit_once(app, db, make):
    tenant = make.tenant()
    wallet.topup_wallet(tenant, 10_000_000, key="seed", actor="system")
    wallet.set_wholesale_prices(1_000, 5)
    card = make.card(tenant)
    member = make.member(tenant)
    plan = make.plan(tenant, price=300_000, traffic_gb=20)
    approver = make.staff(tenant, Role.APPROVER)
    receipt = receipts.submit(receipts.open_invoice(member, plan=plan), telegram_file_id="f")
    db.session.commit()
    receipt_id, approver_id = receipt.id, approver.id  # threads must not touch this session's objects
    outcomes = Counter()

    def work(i):
        from app.extensions import db as tdb
        for _ in range(5):
            by = Reviewer(account=tdb.session.get(Account, approver_id)) if i % 2 else Reviewer(telegram_id=900 + i)
            try:
                receipts.approve(tdb.session.get(Receipt, receipt_id), by)
                tdb.session.commit()
                outcomes["approved"] += 1
            except receipts.InvalidTransition:
                tdb.session.rollback()
                outcomes["refused"] += 1

    run_threads(app, 10, work)
    db.session.expire_all()
    assert outcomes == {"approved": 1, "refused": 49}
    assert count(db, LedgerEntry, idempotency_key=f"receipt:{receipt_id}") == 1
    assert count(db, LedgerEntry, idempotency_key=f"receipt:{receipt_id}:purchase") == 1
    assert count(db, LedgerEntry, idempotency_key=f"receipt:{receipt_id}:purchase:wholesale") == 1
    assert count(db, Subscription) == 1 and count(db, AuditLog, action="receipt.approve") == 1
    card = db.session.get(PaymentCard, card.id)
    assert (card.approved_count, card.received_today, card.times_shown) == (1, 300_000, 1)
    member = db.session.get(Member, member.id)
    assert (member.balance, member.total_xp) == (0, 30)
    assert db.session.get(Tenant, tenant.id).wallet_balance == 10_000_000 - (20 * 1_000 + 15_000)
    assert_books_balance(db)


@pytest.mark.timeout(120)
def test_round_robin_is_fair_across_eight_threads(app, db, make):
    tenant = make.tenant()
    card_ids = [make.card(tenant).id for _ in range(4)]
    member_ids = [make.member(tenant).id for _ in range(8)]

    def work(i):
        from app.extensions import db as tdb
        member = tdb.session.get(Member, member_ids[i])
        for _ in range(50):
            receipt = receipts.open_invoice(member, amount=10_000)
            tdb.session.commit()
            receipts.cancel(receipt, member)
            tdb.session.commit()

    run_threads(app, 8, work)
    db.session.expire_all()
    shown = {c: db.session.get(PaymentCard, c).times_shown for c in card_ids}
    assert sum(shown.values()) == 400
    assert all(99 <= n <= 101 for n in shown.values()), shown
    per_card = Counter(db.session.scalars(sa.select(Receipt.card_id)))
    assert per_card == Counter(shown)


@pytest.mark.timeout(180)
def test_daily_caps_hold_under_concurrent_invoices_and_approvals(app, db, make):
    tenant = make.tenant()
    caps = [300_000, 500_000, 800_000, 1_000_000]
    card_ids = [make.card(tenant, daily_cap=cap).id for cap in caps]
    member_ids = [make.member(tenant).id for _ in range(8)]
    refused = Counter()

    def work(i):
        from app.extensions import db as tdb
        rng = random.Random(i)
        member = tdb.session.get(Member, member_ids[i])
        for _ in range(50):
            try:
                receipt = receipts.open_invoice(member, amount=rng.randrange(10_000, 120_000, 1_000))
                tdb.session.commit()
            except receipts.cards.NoCardAvailable:
                tdb.session.rollback()
                refused["no_card"] += 1
                continue
            receipts.submit(receipt, text="paid")
            tdb.session.commit()
            if rng.random() < 0.8:
                receipts.approve(receipt, Reviewer(telegram_id=1))
            else:
                receipts.reject(receipt, Reviewer(telegram_id=1), "not received")
            tdb.session.commit()

    run_threads(app, 8, work)
    db.session.expire_all()
    today = local_today(db.session.get(Tenant, tenant.id))
    approved = dict(db.session.execute(
        sa.select(Receipt.card_id, sa.func.sum(Receipt.amount)).where(Receipt.status == "approved")
        .group_by(Receipt.card_id)).all())
    for card_id, cap in zip(card_ids, caps):
        card = db.session.get(PaymentCard, card_id)
        assert card.received_day == today
        assert card.received_today == approved.get(card_id, 0) <= cap
    assert refused["no_card"] > 0  # the caps really were reached
    assert_books_balance(db)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ten_thousand_random_operations_keep_the_books(app, db, make):
    world = _world(make, db)
    stats = Counter()
    lock = threading.Lock()

    def work(i):
        rng = random.Random(1000 + i)
        local = Counter()
        for n in range(1250):
            local[_random_operation(rng, world, i, n)] += 1
        with lock:
            stats.update(local)

    run_threads(app, 8, work)
    assert sum(stats.values()) == 10_000
    for op in ("approve", "reject", "purchase", "adjust", "sale", "invoice"):
        assert stats[op] > 50, stats
    assert_books_balance(db)
    _assert_receipts_consistent(db)


def _world(make, db) -> dict:
    wallet.set_wholesale_prices(500, 3)
    world = {"tenants": [], "members": [], "plans": {}, "approver": {}}
    for t in range(3):
        tenant = make.tenant(wallet_credit_limit=200_000)
        wallet.topup_wallet(tenant, 2_000_000, key="seed", actor="system")
        for _ in range(3):
            make.card(tenant)
        world["tenants"].append(tenant.id)
        world["plans"][tenant.id] = [make.plan(tenant, price=p, traffic_gb=g).id
                                     for p, g in ((50_000, 5), (120_000, 20), (80_000, None))]
        world["approver"][tenant.id] = make.staff(tenant, Role.APPROVER).id
        world["members"] += [(tenant.id, make.member(tenant, balance=100_000).id) for _ in range(10)]
    db.session.commit()
    return world


def _random_operation(rng, world, thread, n) -> str:
    from app.extensions import db
    tenant_id, member_id = rng.choice(world["members"])
    member = db.session.get(Member, member_id)
    op = rng.choices(["invoice", "submit", "approve", "reject", "cancel", "purchase", "adjust", "sale",
                      "topup", "traffic", "expire"], weights=[14, 12, 12, 4, 4, 8, 16, 8, 3, 10, 2])[0]
    try:
        _OPERATIONS[op](rng, world, member, tenant_id, f"t{thread}-{n}")
        db.session.commit()
        return op
    except DomainError:
        db.session.rollback()
        return f"{op}-refused"


def _op_invoice(rng, world, member, tenant_id, key):
    if rng.random() < 0.5:
        receipts.open_invoice(member, amount=rng.randrange(10_000, 200_000, 5_000))
    else:
        receipts.open_invoice(member, plan=_plan(rng, world, tenant_id))


def _op_submit(rng, world, member, tenant_id, key):
    receipt = _some_receipt(tenant_id, "awaiting_receipt", rng)
    if receipt:
        receipts.submit(receipt, text="ref")


def _op_approve(rng, world, member, tenant_id, key):
    from app.extensions import db
    receipt = _some_receipt(tenant_id, "pending_review", rng)
    if receipt:
        by = Reviewer(account=db.session.get(Account, world["approver"][tenant_id])) if rng.random() < 0.5 \
            else Reviewer(telegram_id=77)
        receipts.approve(receipt, by, amount=None if rng.random() < 0.8 else rng.randrange(5_000, 300_000, 5_000))


def _op_reject(rng, world, member, tenant_id, key):
    receipt = _some_receipt(tenant_id, "pending_review", rng)
    if receipt:
        receipts.reject(receipt, Reviewer(telegram_id=78), "not received")


def _op_cancel(rng, world, member, tenant_id, key):
    receipt = receipts.open_receipt_of(member)
    if receipt:
        receipts.cancel(receipt, member)


def _op_purchase(rng, world, member, tenant_id, key):
    plans.purchase_from_balance(member, _plan(rng, world, tenant_id), key=key, actor="system")


def _op_adjust(rng, world, member, tenant_id, key):
    amount = rng.randrange(1_000, 150_000, 1_000)
    if rng.random() < 0.5:
        ledger.credit_member(member, amount, key=key, kind="adjustment", actor="account:1")
    else:
        ledger.debit_member(member, amount, key=key, kind="adjustment", actor="account:1")


def _op_sale(rng, world, member, tenant_id, key):
    from app.extensions import db
    wallet.charge_sale(db.session.get(Tenant, tenant_id), _plan(rng, world, tenant_id), key=key)


def _op_topup(rng, world, member, tenant_id, key):
    from app.extensions import db
    wallet.topup_wallet(db.session.get(Tenant, tenant_id), rng.randrange(10_000, 300_000, 10_000), key=key,
                        actor="account:1")


def _op_traffic(rng, world, member, tenant_id, key):
    subscription = subscriptions.active_subscription(member)
    if subscription:
        wallet.record_traffic_consumption(subscription, rng.randrange(1, 2 * 1024**3))


def _op_expire(rng, world, member, tenant_id, key):
    from datetime import timedelta

    from app.extensions import db
    from app.models import utcnow
    tenant = db.session.get(Tenant, tenant_id)
    receipts.expire_stale(tenant, now=utcnow() + timedelta(hours=rng.choice([1, 30])))
    subscriptions.expire_due(tenant)


_OPERATIONS = {name[4:]: fn for name, fn in globals().items() if name.startswith("_op_")}


def _plan(rng, world, tenant_id):
    from app.extensions import db
    return db.session.get(Plan, rng.choice(world["plans"][tenant_id]))


def _some_receipt(tenant_id, status, rng):
    from app.extensions import db
    ids = db.session.scalars(sa.select(Receipt.id).where(Receipt.tenant_id == tenant_id, Receipt.status == status)
                             .limit(20)).all()
    return db.session.get(Receipt, rng.choice(ids)) if ids else None


def _assert_receipts_consistent(db):
    credits = dict(db.session.execute(sa.select(LedgerEntry.ref_id, sa.func.count()).where(
        LedgerEntry.ref_type == "receipt").group_by(LedgerEntry.ref_id)).all())
    approved = db.session.scalars(sa.select(Receipt).where(Receipt.status == "approved")).all()
    assert approved and {r.id for r in approved} == set(credits) and set(credits.values()) == {1}
    for card in db.session.scalars(sa.select(PaymentCard)):
        assert card.approved_count == sum(1 for r in approved if r.card_id == card.id)
    open_per_member = db.session.execute(sa.select(Receipt.member_id, sa.func.count()).where(
        Receipt.status.in_(["awaiting_receipt", "pending_review"])).group_by(Receipt.member_id)).all()
    assert all(n == 1 for _, n in open_per_member)

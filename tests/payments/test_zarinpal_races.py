"""Postgres: callbacks and the reconciliation job racing for one authority credit it exactly once."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import scheduler
from app.models import LedgerEntry, OnlinePayment
from app.services.payments import online
from tests.services.money_helpers import assert_books_balance
from tests.services.test_money_concurrency import run_threads

pytestmark = pytest.mark.postgres


def paid_payment(db, gateway, shop, amount=70_000):
    tenant, bot, member, _ = shop
    payment = online.start_member_payment(member, bot, amount=amount)
    db.session.commit()
    return payment, gateway.press(payment.authority)


def credits(db, payment_id) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.ref_type == "online_payment", LedgerEntry.ref_id == payment_id))


@pytest.mark.timeout(120)
def test_twenty_concurrent_callbacks_credit_once(app, db, gateway, zarinpal_shop):
    payment, back = paid_payment(db, gateway, zarinpal_shop)
    statuses = []
    run_threads(app, 20, lambda i: statuses.append(app.test_client().get(back).status_code))
    db.session.expire_all()
    member = zarinpal_shop[2]
    assert statuses == [200] * 20
    assert credits(db, payment.id) == 1 and member.balance == 70_000 and payment.status == "paid"
    assert_books_balance(db)


@pytest.mark.timeout(120)
def test_the_callback_and_the_job_racing_credit_once(app, db, gateway, zarinpal_shop):
    for _ in range(5):
        payment, back = paid_payment(db, gateway, zarinpal_shop, amount=10_000)
        work = [lambda: app.test_client().get(back), lambda: scheduler.run_now(app, "zarinpal_reconcile")]
        run_threads(app, 2, lambda i: work[i]())
        db.session.expire_all()
        assert credits(db, payment.id) == 1 and payment.status == "paid"
    assert zarinpal_shop[2].balance == 50_000
    assert_books_balance(db)


@pytest.mark.timeout(120)
def test_101_from_a_racing_verifier_never_credits_twice(app, db, gateway, zarinpal_shop):
    """Ten callbacks plus ten job runs: the gateway answers 100 once and 101 to the rest."""
    payment, back = paid_payment(db, gateway, zarinpal_shop)
    run_threads(app, 20, lambda i: app.test_client().get(back) if i % 2 else scheduler.run_now(
        app, "zarinpal_reconcile"))
    db.session.expire_all()
    assert credits(db, payment.id) == 1 and zarinpal_shop[2].balance == 70_000
    assert db.session.scalar(sa.select(OnlinePayment.ref_id).where(OnlinePayment.id == payment.id))
    assert_books_balance(db)

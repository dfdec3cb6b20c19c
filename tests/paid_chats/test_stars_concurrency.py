"""On Postgres, the same successful_payment delivered by several workers at once is one sale."""
from __future__ import annotations

import pytest

from app.models import Bot, LedgerEntry, Member, StarPayment, Subscription
from app.services import stars, wallet
from tests.paid_chats.test_stars_service import paid
from tests.services.money_helpers import assert_books_balance, count
from tests.services.test_money_concurrency import run_threads

pytestmark = pytest.mark.postgres


@pytest.mark.timeout(120)
def test_a_payment_delivered_twice_at_once_sells_once(app, db, make, vip):
    tenant, bot, _chat, plan = vip
    wallet.set_wholesale_prices(0, 10)
    member = make.member(tenant)
    body = paid(member, plan, "charge-twice", is_recurring=True, is_first_recurring=True)
    db.session.commit()
    bot_id, member_id = bot.id, member.id
    sold = []

    def work(_i):
        from app.extensions import db as tdb
        payment = stars.record_payment(tdb.session.get(Bot, bot_id), tdb.session.get(Member, member_id).telegram_id,
                                       dict(body))
        tdb.session.commit()
        sold.append(payment.id)

    run_threads(app, 8, work)
    db.session.expire_all()
    assert len(set(sold)) == 1 and count(db, StarPayment) == 1 and count(db, Subscription) == 1
    assert count(db, LedgerEntry, idempotency_key="stars:charge-twice:wholesale") == 1
    assert_books_balance(db)

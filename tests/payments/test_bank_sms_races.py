"""Postgres: 200 invoices with unique amounts on 3 cards, their 200 SMS posted concurrently plus 50 duplicates.

Posted as the SMS-forwarder app does: POST /api/v1/bank-messages with a `bank` token, 25 clients at once.
"""
from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from app.models import BankMessage, LedgerEntry, Receipt
from app.services import api_tokens, receipts, settings
from app.services.payments import unique_amounts
from tests.payments.bank_helpers import mellat_sms
from tests.services.money_helpers import assert_books_balance
from tests.services.test_money_concurrency import run_threads

pytestmark = pytest.mark.postgres
THREADS = 25


@pytest.mark.timeout(300)
def test_two_hundred_sms_at_once_approve_two_hundred_invoices_once(app, db, make):
    tenant = make.tenant()
    settings.update(tenant, {"bank_sms_mode": "auto", "bank_sms_unique_amounts": True}, by="test")
    for _ in range(3):
        make.card(tenant)
    invoices = []
    for _ in range(200):
        invoices.append(unique_amounts.apply(receipts.open_invoice(make.member(tenant), amount=100_000)))
        db.session.commit()
    by_card = {}
    for receipt in invoices:
        by_card.setdefault(receipt.card_id, set()).add(receipt.amount)
    assert len(by_card) == 3 and sum(len(a) for a in by_card.values()) == 200  # unique per card
    texts = [mellat_sms(r.amount, r.card.card_number[-4:]) for r in invoices]
    posts = texts + random.Random(7).sample(texts, 50)
    random.Random(8).shuffle(posts)
    _, secret = api_tokens.create_token(tenant, "sms forwarder", ["bank"])
    db.session.commit()
    headers, answers = {"Authorization": f"Bearer {secret}"}, []

    def work(i):
        client = app.test_client()
        for text in posts[i::THREADS]:
            answer = client.post("/api/v1/bank-messages", json={"sender": "Bank Mellat", "text": text},
                                 headers=headers)
            answers.append((answer.status_code, answer.get_json().get("duplicate")))

    run_threads(app, THREADS, work)
    db.session.expire_all()
    assert len(answers) == 250 and {status for status, _ in answers} == {201}, answers[:3]
    assert sum(duplicate == "true" for _, duplicate in answers) == 50
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankMessage)) == 200
    assert set(db.session.scalars(sa.select(BankMessage.status))) == {"approved"}
    assert set(db.session.scalars(sa.select(Receipt.status))) == {"approved"}
    credits = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key.like("receipt:%")))
    assert credits == 200
    assert all(r.member.balance == r.amount for r in db.session.scalars(sa.select(Receipt)))
    assert_books_balance(db)

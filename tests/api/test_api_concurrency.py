"""The API's concurrency acceptance tests: real threads, real HTTP requests (the WSGI test client), Postgres."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from app.models import IdempotencyRecord, LedgerEntry, Member

pytestmark = pytest.mark.postgres


def all_at_once(app, n: int, request) -> list:
    """request(client) in n threads started together, each with its own test client; the responses."""
    barrier, results = threading.Barrier(n), [None] * n

    def body(i):
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = request(client)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            results[i] = err

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, repr(failures[0])
    return results


def test_50_concurrent_debits_with_one_key_make_one_ledger_entry(app, db, make, tenant, token_for):
    member = make.member(tenant, telegram_id=500, balance=10_000)
    headers = {"Authorization": f"Bearer {token_for(tenant)}", "Idempotency-Key": "one-charge"}
    responses = all_at_once(app, 50, lambda c: c.post("/api/v1/members/500/balance/debit",
                                                      json={"amount": 700, "reason": "AI request"}, headers=headers))
    assert Counter(r.status_code for r in responses) == {201: 50}
    assert len({r.get_json()["id"] for r in responses}) == 1
    db.session.expire_all()
    debits = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.member_id == member.id,
                                                            LedgerEntry.amount < 0)).all()
    assert len(debits) == 1 and db.session.get(Member, member.id).balance == 9_300
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)) == 1


def test_100_concurrent_quota_consumes_at_limit_25_give_exactly_25(app, db, make, tenant, token_for):
    make.member(tenant, telegram_id=501)
    bot_id = make.bot(tenant).id  # no subscription, no VIP: the free limit, 25 by default
    headers = {"Authorization": f"Bearer {token_for(tenant)}"}
    responses = all_at_once(app, 100, lambda c: c.post("/api/v1/members/501/quota/consume",
                                                       json={"bot_id": bot_id, "count": 1}, headers=headers))
    assert Counter(r.status_code for r in responses) == {200: 25, 429: 75}
    assert sorted(r.get_json()["used"] for r in responses if r.status_code == 200) == list(range(1, 26))
    assert {r.get_json()["code"] for r in responses if r.status_code == 429} == {"quota_exhausted"}

"""Subscription expiry, reminders and stale receipts: each member is told once, however often the job runs."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.models import Receipt, ReceiptStatus, Subscription

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def subscribe(make, db):
    def subscribe(tenant, ends_in: timedelta, status="active", started=timedelta(days=30)):
        member = make.member(tenant)
        sub = Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=make.plan(tenant).id,
                           status=status, starts_at=NOW - started, ends_at=NOW + ends_in,
                           source="balance")
        db.session.add(sub)
        db.session.commit()
        return sub
    return subscribe


def _keys(told) -> Counter:
    return Counter((member_id, key) for member_id, key, _ in told)


def test_expiry_and_reminders_are_told_once_each(make, db, subscribe, run_job, told):
    tenant = make.tenant()
    in_2_days = subscribe(tenant, timedelta(days=2, hours=12))
    in_20_hours = subscribe(tenant, timedelta(hours=20))
    ended = subscribe(tenant, -timedelta(hours=1))
    far = subscribe(tenant, timedelta(days=20))

    run_job("subscriptions", at=NOW)
    run_job("subscriptions", at=NOW + timedelta(minutes=5))
    assert _keys(told) == {(in_2_days.member_id, "subscription_reminder_3d"): 1,
                           (in_20_hours.member_id, "subscription_reminder_1d"): 1,
                           (ended.member_id, "subscription_expired"): 1}
    assert db.session.get(Subscription, ended.id).status == "expired"
    assert db.session.get(Subscription, far.id).status == "active"

    told.clear()
    for hours in (37, 38, 61, 62):                     # past the 1-day mark, then past the end
        run_job("subscriptions", at=NOW + timedelta(hours=hours))
    assert _keys(told) == {(in_2_days.member_id, "subscription_reminder_1d"): 1,
                           (in_2_days.member_id, "subscription_expired"): 1,
                           (in_20_hours.member_id, "subscription_expired"): 1}


def test_a_notice_carries_what_the_bot_needs(make, subscribe, run_job, told):
    sub = subscribe(make.tenant(), timedelta(hours=5))         # 20:30 today in Tehran
    run_job("subscriptions", at=NOW)
    [(member_id, key, params)] = told
    assert (member_id, key, params["days"]) == (sub.member_id, "subscription_reminder_today", 0)
    assert params["subscription_id"] == sub.id and params["plan_name"].startswith("Plan")


def test_long_expired_subscriptions_are_marked_without_a_message(make, db, subscribe, run_job, told):
    old = subscribe(make.tenant(), -timedelta(days=40), status="expired")
    run_job("subscriptions", at=NOW)
    assert told == []
    assert db.session.get(Subscription, old.id).expiry_notified_at is not None


def _receipt(make, db, tenant, status, expires_in: timedelta):
    member = make.member(tenant)
    receipt = Receipt(tenant_id=tenant.id, member_id=member.id, purpose="topup", amount=250_000,
                      tracking_code=f"C2C-T{member.id:05d}", status=status,
                      created_at=NOW - timedelta(hours=30), expires_at=NOW + expires_in)
    db.session.add(receipt)
    db.session.commit()
    return receipt


def test_stale_receipts_expire_and_the_member_is_told_once(make, db, run_job, told):
    tenant, other = make.tenant(), make.tenant()
    stale = _receipt(make, db, tenant, ReceiptStatus.AWAITING_RECEIPT.value, -timedelta(hours=1))
    stale_review = _receipt(make, db, other, ReceiptStatus.PENDING_REVIEW.value, -timedelta(minutes=1))
    fresh = _receipt(make, db, tenant, ReceiptStatus.PENDING_REVIEW.value, timedelta(hours=3))
    decided = _receipt(make, db, tenant, ReceiptStatus.APPROVED.value, -timedelta(hours=5))

    run_job("stale_receipts", at=NOW)
    run_job("stale_receipts", at=NOW + timedelta(minutes=5))

    status = {r.id: db.session.get(Receipt, r.id).status for r in (stale, stale_review, fresh, decided)}
    assert status == {stale.id: "expired", stale_review.id: "expired", fresh.id: "pending_review",
                      decided.id: "approved"}
    assert _keys(told) == {(stale.member_id, "receipt_expired"): 1, (stale_review.member_id, "receipt_expired"): 1}
    assert {params["tracking_code"] for _, _, params in told} == {stale.tracking_code, stale_review.tracking_code}


def test_the_money_service_expires_and_the_job_tells(make, db, subscribe, run_job, told, monkeypatch):
    """The seam to app.services.subscriptions.expire_due: it decides, the job tells."""
    from app.services import subscriptions

    calls = []
    def expire_due(tenant, now=None):
        calls.append((tenant.id, now))
        db.session.get(Subscription, sub.id).status = "expired"
        db.session.flush()
    monkeypatch.setattr(subscriptions, "expire_due", expire_due)

    sub = subscribe(make.tenant(), timedelta(days=10))        # not due by our rule: only the service expires it
    run_job("subscriptions", at=NOW)
    assert calls == [(sub.tenant_id, NOW)]
    assert [(m, k) for m, k, _ in told] == [(sub.member_id, "subscription_expired")]


def test_many_due_rows_are_claimed_in_bounded_batches(make, db, subscribe, run_job, told, monkeypatch):
    """No statement carries more than CLAIM_BATCH ids, and every member is still told once."""
    import sqlalchemy as sa

    from app.jobs import subscriptions as job

    monkeypatch.setattr(job, "CLAIM_BATCH", 2)
    tenant = make.tenant()
    due = [subscribe(tenant, timedelta(hours=20)) for _ in range(5)]    # tomorrow in Tehran
    widest = []
    def count_ids(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SUBSCRIPTIONS"):
            widest.append(len(parameters) if isinstance(parameters, (tuple, list, dict)) else 0)
    sa.event.listen(db.engine, "before_cursor_execute", count_ids)
    try:
        run_job("subscriptions", at=NOW)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count_ids)
    assert _keys(told) == {(s.member_id, "subscription_reminder_1d"): 1 for s in due}
    assert widest and max(widest) <= 2 + 2   # at most CLAIM_BATCH ids, plus the marker value and status


@pytest.mark.parametrize("ends_in,zone,days", [
    (timedelta(days=2), "Asia/Tehran", 2),                 # 15:30 on 3 March in Tehran: two days, not three
    (timedelta(days=2, hours=10), "Asia/Tehran", 3),       # 01:30 on 4 March in Tehran
    (timedelta(days=2, hours=10), "America/New_York", 2),  # 17:00 on 3 March in New York
])
def test_reminders_count_days_in_the_tenants_calendar(make, subscribe, run_job, told, ends_in, zone, days):
    subscribe(make.tenant(timezone=zone), ends_in)
    run_job("subscriptions", at=NOW)
    [(_, key, params)] = told
    assert (key, params["days"]) == ("subscription_reminder_3d", days)


@pytest.mark.parametrize("length", [timedelta(days=1), timedelta(days=2), timedelta(days=3)])
def test_a_short_grant_gets_one_reminder(make, subscribe, run_job, told, length):
    sub = subscribe(make.tenant(), length, started=timedelta(0))
    for hours in range(0, int(length.total_seconds() // 3600) + 1, 6):
        run_job("subscriptions", at=NOW + timedelta(hours=hours))
    reminders = [key for member_id, key, _ in told if member_id == sub.member_id and "reminder" in key]
    assert len(reminders) == 1 and reminders[0] in ("subscription_reminder_1d", "subscription_reminder_today")

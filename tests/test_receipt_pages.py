"""The receipt queue and history are keyset-paginated: every receipt once, in order, across pages."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.models import Member, Receipt, utcnow
from app.services.receipt_queries import PAGE_SIZE

COUNT = 2 * PAGE_SIZE + 5


def seed_receipts(db, tenant, status, count=COUNT, prefix="Q"):
    """`count` receipts of one status whose times tie in threes, so pages must break ties by id."""
    start = utcnow() - timedelta(days=1)
    members = [Member(tenant_id=tenant.id, telegram_id=1000 * ord(prefix[0]) + i, first_name=f"M{i}",
                      referral_code=f"{prefix}{tenant.id}x{i}") for i in range(count)]
    db.session.add_all(members)
    db.session.flush()
    decided = status != "pending_review"
    receipts = [Receipt(tenant_id=tenant.id, member_id=m.id, purpose="topup", amount=1000 + i,
                        tracking_code=f"{prefix}-{i:05d}", status=status, expires_at=start + timedelta(days=2),
                        submitted_at=start + timedelta(minutes=(count - i) // 3),
                        reviewed_at=start + timedelta(hours=1, minutes=i // 3) if decided else None)
                for i, m in enumerate(members)]
    db.session.add_all(receipts)
    db.session.commit()
    return receipts


def walk(client, url):
    """Follow the Next page links from url; the tracking codes of every page, in order."""
    pages = []
    while url and len(pages) < 10:
        html = client.get(url).get_data(as_text=True)
        pages.append(re.findall(r">([A-Z]-\d{5})</a>", html))
        link = re.search(r'id="receipts-next" href="([^"]+)"', html)
        url = link.group(1).replace("&amp;", "&") if link else None
    return pages


def test_the_queue_pages_through_every_pending_receipt_oldest_first(owner_client, db):
    client, tenant, _ = owner_client
    receipts = seed_receipts(db, tenant, "pending_review")
    pages = walk(client, "/receipts/")
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5]
    oldest_first = sorted(receipts, key=lambda r: (r.submitted_at, r.id))
    assert sum(pages, []) == [r.tracking_code for r in oldest_first]


def test_history_pages_newest_decision_first_and_keeps_the_filters(owner_client, db):
    client, tenant, _ = owner_client
    receipts = seed_receipts(db, tenant, "approved", prefix="H")
    seed_receipts(db, tenant, "rejected", count=3, prefix="R")
    pages = walk(client, "/receipts/history?status=approved")
    newest_first = sorted(receipts, key=lambda r: (r.reviewed_at, r.id), reverse=True)
    assert sum(pages, []) == [r.tracking_code for r in newest_first] and len(pages) == 3


def test_another_tenants_receipt_as_the_cursor_shows_nothing_of_theirs(owner_client, db, make):
    client, tenant, _ = owner_client
    other = make.tenant()
    theirs = seed_receipts(db, other, "pending_review", count=2, prefix="X")
    seed_receipts(db, tenant, "pending_review", count=3, prefix="Q")
    html = client.get(f"/receipts/?after={theirs[0].id}").get_data(as_text=True)
    assert "X-0000" not in html and "receipts-next" not in html


def test_a_short_queue_has_no_next_page(owner_client, db):
    client, tenant, _ = owner_client
    seed_receipts(db, tenant, "pending_review", count=3)
    assert walk(client, "/receipts/") == [["Q-00001", "Q-00002", "Q-00000"]]  # ties broken by id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 3

"""Postgres: two platform admins approving one wallet top-up receipt at the same moment credit it once."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import LedgerEntry, PlatformReceipt
from tests.payments.platform_topup_helpers import csrf, platform_card, signed_in, upload
from tests.services.money_helpers import assert_books_balance
from tests.services.test_money_concurrency import run_threads

pytestmark = pytest.mark.postgres


@pytest.mark.timeout(180)
def test_two_platform_admins_approving_together_credit_once(app, db, make, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    owner = make.account()
    tenant = make.tenant(owner=owner)
    tenant.wallet_balance = 0
    admins = [make.account(platform_admin=True) for _ in range(2)]
    card = platform_card(db)
    owner_client = signed_in(app, owner)
    clients = [signed_in(app, admin) for admin in admins]
    tokens = [csrf(c.get("/admin/cards").get_data(as_text=True)) for c in clients]
    for round_ in range(5):
        assert upload(owner_client, card, amount=str(10_000 + round_)).status_code == 302
        receipt_id = db.session.scalar(sa.select(PlatformReceipt.id).where(PlatformReceipt.status == "pending_review"))
        statuses = []
        run_threads(app, 2, lambda i: statuses.append(clients[i].post(
            f"/admin/receipts/{receipt_id}/approve", data={"csrf_token": tokens[i]}).status_code))
        assert sorted(statuses) == [302, 400], statuses  # one approves, the other is told it is decided
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
            LedgerEntry.ref_type == "platform_receipt", LedgerEntry.ref_id == receipt_id))
        assert entries == 1
    db.session.expire_all()
    assert tenant.wallet_balance == sum(10_000 + i for i in range(5))
    assert_books_balance(db)

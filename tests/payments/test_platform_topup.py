"""A tenant pays the platform by card-to-card: the owner uploads the receipt, a platform admin decides it.

The same receipt life as a member's, one level up: one credit of the tenant wallet per receipt (ledger key
platform_receipt:<id>), audited, the owner told by a dashboard notice; tenants never see each other's receipts.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import Account, AuditLog, LedgerEntry, Membership, PlatformCard, PlatformReceipt, Role, TenantNotice
from app.services import plans, platform_receipts, wallet
from app.services.errors import DomainError
from app.services.receipts import InvalidTransition
from tests.factories import luhn_complete
from tests.payments.platform_topup_helpers import csrf, decide, platform_card, receipt_image, signed_in, upload
from tests.services.money_helpers import assert_books_balance

NUMBER = luhn_complete("610433789999000")


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def shop(app, db, make, instance):
    """A tenant with an empty wallet, its owner signed in, a platform card and a platform admin signed in."""
    owner = make.account()
    tenant = make.tenant(owner=owner)
    tenant.wallet_balance = 0
    admin = make.account(platform_admin=True)
    card = platform_card(db)
    return tenant, signed_in(app, owner), card, signed_in(app, admin), admin


def the_receipt(db) -> PlatformReceipt:
    db.session.expire_all()
    return db.session.scalar(sa.select(PlatformReceipt))


def credits(db, receipt_id) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.ref_type == "platform_receipt",
                                                                LedgerEntry.ref_id == receipt_id)))


def test_the_owner_uploads_the_platform_admin_approves_and_the_wallet_is_credited_once(db, shop, instance):
    tenant, owner, card, admin, admin_account = shop
    page = owner.get("/wallet/").get_data(as_text=True)
    assert 'id="card-topup"' in page and card.grouped_number in page
    sent = upload(owner, card, amount="۱۵۰٬۰۰۰")
    assert sent.status_code == 302
    receipt = the_receipt(db)
    assert (receipt.status, receipt.amount, receipt.tenant_id, receipt.card_id) == ("pending_review", 150_000,
                                                                                    tenant.id, card.id)
    stored = (instance / receipt.photo_path).read_bytes()  # our re-encoded copy (app.services.images), same pixels
    assert receipt.photo_path.endswith(".png") and same_pixels(stored, receipt_image())
    assert 'id="topup-pending"' in owner.get("/wallet/").get_data(as_text=True)

    queue = admin.get("/admin/receipts").get_data(as_text=True)
    assert receipt.tracking_code in queue and tenant.name in queue
    photo = admin.get(f"/admin/receipts/{receipt.id}/photo")
    assert photo.data == stored and photo.mimetype == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert decide(admin, receipt.id).status_code == 302
    receipt = the_receipt(db)
    assert receipt.status == "approved" and receipt.reviewed_by_account_id == admin_account.id
    assert tenant.wallet_balance == 150_000
    [entry] = credits(db, receipt.id)
    assert (entry.account, entry.amount, entry.idempotency_key, entry.kind) == (
        "tenant_wallet", 150_000, f"platform_receipt:{receipt.id}", "wallet_receipt")
    assert db.session.scalar(sa.select(AuditLog.actor).where(AuditLog.action == "wallet.receipt_approve")) \
        == f"account:{admin_account.id}"
    assert db.session.scalar(sa.select(TenantNotice.kind).where(TenantNotice.tenant_id == tenant.id)) \
        == "platform_receipt_approved"
    assert "platform-receipts" in owner.get("/overview/").get_data(as_text=True)

    again = decide(admin, receipt.id)  # a second press (or a second admin later) changes nothing
    assert again.status_code in (302, 400) and len(credits(db, receipt.id)) == 1
    assert tenant.wallet_balance == 150_000
    assert_books_balance(db)


def test_approving_a_different_amount_credits_what_arrived(db, shop):
    tenant, owner, card, admin, _ = shop
    upload(owner, card, amount="200000")
    receipt = the_receipt(db)
    assert decide(admin, receipt.id, amount="180,000").status_code == 302
    receipt = the_receipt(db)
    assert receipt.amount == 180_000 and tenant.wallet_balance == 180_000
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "wallet.receipt_approve"))
    assert audit.data["requested_amount"] == 200_000 and audit.data["different_amount"] is True


def test_a_rejected_receipt_credits_nothing_and_the_owner_reads_the_reason(db, shop):
    tenant, owner, card, admin, _ = shop
    upload(owner, card)
    receipt = the_receipt(db)
    assert decide(admin, receipt.id, "reject", reason="No such transfer reached our card").status_code == 302
    receipt = the_receipt(db)
    assert receipt.status == "rejected" and tenant.wallet_balance == 0 and credits(db, receipt.id) == []
    assert db.session.scalar(sa.select(TenantNotice.kind)) == "platform_receipt_rejected"
    page = owner.get("/wallet/").get_data(as_text=True)
    assert "No such transfer reached our card" in page and 'data-status="rejected"' in page
    assert decide(admin, receipt.id).status_code == 400 and tenant.wallet_balance == 0


@pytest.mark.parametrize("image, why", [(b"not an image at all", "garbage"),
                                        (receipt_image()[:60], "truncated"),
                                        (receipt_image(kind="GIF"), "gif"),
                                        (b"\x89PNG" + b"\x00" * (5 * 1024 * 1024), "too big")])
def test_an_upload_that_is_not_a_readable_image_is_refused(db, shop, image, why):
    _, owner, card, _, _ = shop
    refused = upload(owner, card, image=image)
    assert refused.status_code == 400, why
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlatformReceipt)) == 0


def test_one_receipt_waits_per_tenant_and_the_owner_may_withdraw_it(db, shop):
    _, owner, card, _, _ = shop
    assert upload(owner, card).status_code == 302
    receipt = the_receipt(db)
    page = owner.get("/wallet/").get_data(as_text=True)
    assert 'id="card-topup"' not in page  # the form gives way to the waiting receipt
    assert upload(owner, card).status_code == 400
    assert owner.post(f"/wallet/topups/{receipt.id}/cancel", data={"csrf_token": csrf(page)}).status_code == 302
    assert the_receipt(db).status == "cancelled"
    assert upload(owner, card).status_code == 302


def test_an_inactive_platform_card_is_refused(db, shop):
    _, owner, card, admin, _ = shop
    page = admin.get("/admin/cards").get_data(as_text=True)
    assert admin.post(f"/admin/cards/{card.id}/toggle", data={"csrf_token": csrf(page)}).status_code == 302
    db.session.expire_all()
    assert not card.is_active
    assert upload(owner, card).status_code == 400
    assert "card-topup" not in owner.get("/wallet/").get_data(as_text=True).split('id="topup-card"')[1][:400]


def test_the_platform_admin_adds_a_card_with_its_account_number(db, shop):
    _, _, _, admin, _ = shop
    page = admin.get("/admin/cards").get_data(as_text=True)
    added = admin.post("/admin/cards/new", data={"csrf_token": csrf(page), "card_number": NUMBER,
                                                 "holder_name": "Botfleet", "bank_name": "Mellat",
                                                 "account_number": "201.8000.12345678.1"})
    assert added.status_code == 302
    card = db.session.scalar(sa.select(PlatformCard).where(PlatformCard.card_number == NUMBER))
    assert (card.account_number, card.is_active) == ("201-8000-12345678-1", True)
    mistyped = admin.post("/admin/cards/new", data={"csrf_token": csrf(page), "card_number": "1234",
                                                    "holder_name": "x", "bank_name": "y"})
    assert mistyped.status_code == 400


def test_another_tenants_owner_gets_404_and_owners_never_decide(db, make, app, shop):
    tenant, owner, card, _, _ = shop
    upload(owner, card)
    receipt = the_receipt(db)
    other_owner = make.account()
    make.tenant(owner=other_owner)
    other = signed_in(app, other_owner)
    token = csrf(other.get("/wallet/").get_data(as_text=True))
    assert other.get(f"/wallet/topups/{receipt.id}/photo").status_code == 404
    assert other.post(f"/wallet/topups/{receipt.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert receipt.tracking_code not in other.get("/wallet/").get_data(as_text=True)
    for client in (owner, other):  # the platform's pages are a platform admin's only
        token = csrf(client.get("/account/password").get_data(as_text=True))
        assert client.get("/admin/receipts").status_code == 403
        assert client.get(f"/admin/receipts/{receipt.id}").status_code == 403
        assert client.post(f"/admin/receipts/{receipt.id}/approve", data={"csrf_token": token}).status_code == 403
    assert the_receipt(db).status == "pending_review" and tenant.wallet_balance == 0


def test_the_service_refuses_an_owner_as_reviewer_and_a_viewer_as_uploader(db, make, shop, instance):
    tenant, _, card, _, _ = shop
    viewer = make.staff(tenant, Role.VIEWER)
    with pytest.raises(DomainError):
        platform_receipts.submit(tenant, viewer, amount=10_000, card_id=card.id, image=receipt_image(), text=None,
                                 instance_path=str(instance))
    db.session.rollback()
    receipt = platform_receipts.submit(tenant, _owner_of(db, tenant), amount=10_000, card_id=card.id,
                                       image=receipt_image(), text=None, instance_path=str(instance))
    with pytest.raises(DomainError):
        platform_receipts.approve(receipt, _owner_of(db, tenant))


def test_the_wallet_cannot_cover_notice_leads_to_both_ways_of_topping_up(db, make, app, shop, gateway):
    tenant, owner, card, admin, _ = shop
    wallet.set_wholesale_prices(per_gb=0, percent=10, actor="test")
    plan = make.plan(tenant, price=200_000)
    member = make.member(tenant, balance=400_000)
    with pytest.raises(DomainError):
        plans.purchase_from_balance(member, plan, key="before", actor="test")
    db.session.commit()
    overview = owner.get("/overview/").get_data(as_text=True)
    assert "wallet-topup-link" in overview and "/wallet/#wallet-topup" in overview
    page = owner.get("/wallet/").get_data(as_text=True)
    top = page.split('id="wallet-topup"')[1]
    assert 'id="zarinpal-topup"' in top and 'id="card-topup"' in top
    upload(owner, card, amount="50000")
    decide(admin, the_receipt(db).id)
    db.session.expire_all()
    assert tenant.wallet_balance == 50_000
    plans.purchase_from_balance(member, plan, key="after", actor="test")  # sells at once
    db.session.commit()
    assert tenant.wallet_balance == 30_000


def test_a_decided_receipt_cannot_be_decided_again_by_the_service(db, shop, instance):
    tenant, _, card, _, admin_account = shop
    receipt = platform_receipts.submit(tenant, _owner_of(db, tenant), amount=10_000, card_id=card.id,
                                       image=receipt_image(), text=None, instance_path=str(instance))
    platform_receipts.approve(receipt, admin_account)
    with pytest.raises(InvalidTransition):
        platform_receipts.approve(receipt, admin_account)
    with pytest.raises(InvalidTransition):
        platform_receipts.reject(receipt, admin_account, "late")
    assert len(credits(db, receipt.id)) == 1


def _owner_of(db, tenant):
    return db.session.scalar(sa.select(Account).join(Membership).where(Membership.tenant_id == tenant.id,
                                                                       Membership.role == "owner"))


def same_pixels(first: bytes, second: bytes) -> bool:
    import io

    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        return a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None

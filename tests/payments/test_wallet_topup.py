"""A tenant pays the platform: the owner tops up the wallet by Zarinpal (the platform's merchant) and sells at once."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.models import LedgerEntry, OnlinePayment, TenantNotice
from app.services import plans, wallet
from app.services.errors import DomainError
from tests.payments.gateway import PLATFORM_MERCHANT


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_a_new_tenant_tops_up_by_zarinpal_and_can_sell_immediately(db, make, client, auth, gateway):
    wallet.set_wholesale_prices(per_gb=0, percent=10, actor="test")
    owner = make.account()
    tenant = make.tenant(owner=owner)
    plan = make.plan(tenant, price=200_000)
    member = make.member(tenant, balance=200_000)
    try:  # an empty wallet refuses the sale and leaves the owner a notice that links to the top-up
        plans.purchase_from_balance(member, plan, key="before", actor="test")
        raise AssertionError("the sale should have been refused")
    except DomainError:
        db.session.commit()
    auth.login(owner.email)
    overview = client.get("/overview/").get_data(as_text=True)
    assert db.session.scalar(sa.select(TenantNotice.kind)) == "wallet_insufficient"
    assert "wallet-topup-link" in overview and "/wallet/#wallet-topup" in overview

    page = client.get("/wallet/").get_data(as_text=True)
    assert 'id="zarinpal-topup"' in page
    started = client.post("/wallet/topup/zarinpal", data={"csrf_token": csrf(page), "amount": "۵۰٬۰۰۰"})
    assert started.status_code == 302
    payment = db.session.scalar(sa.select(OnlinePayment))
    assert started.headers["Location"] == f"{gateway.url}/pg/StartPay/{payment.authority}"
    assert payment.purpose == "wallet" and payment.member_id is None and payment.amount == 50_000
    assert gateway.payments()[0]["merchant_id"] == PLATFORM_MERCHANT[:8] + "…"

    result = client.get(gateway.press(payment.authority)).get_data(as_text=True)
    assert 'data-status="paid"' in result and 'href="/wallet"' in result
    db.session.expire_all()
    assert tenant.wallet_balance == 50_000
    assert db.session.scalar(sa.select(LedgerEntry.kind).where(LedgerEntry.idempotency_key == f"online:{payment.id}")) \
        == "wallet_topup"
    subscription = plans.purchase_from_balance(member, plan, key="after", actor="test")
    db.session.commit()
    assert subscription.plan_id == plan.id and tenant.wallet_balance == 30_000


def test_without_a_platform_merchant_the_page_says_so(db, make, client, auth, app):
    owner = make.account()
    make.tenant(owner=owner)
    saved = app.config.get("PLATFORM_ZARINPAL_MERCHANT_ID")
    app.config["PLATFORM_ZARINPAL_MERCHANT_ID"] = None
    try:
        auth.login(owner.email)
        page = client.get("/wallet/").get_data(as_text=True)
        assert 'id="zarinpal-topup"' not in page and 'id="wallet-topup"' in page
        token = csrf(client.get("/online-payments/").get_data(as_text=True))
        refused = client.post("/wallet/topup/zarinpal", data={"csrf_token": token, "amount": "50000"})
        assert refused.status_code == 400 and db.session.scalar(sa.select(OnlinePayment)) is None
    finally:
        app.config["PLATFORM_ZARINPAL_MERCHANT_ID"] = saved

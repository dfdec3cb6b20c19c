"""The owner's online payments page: the merchant id form (never echoed) and the payments list."""
from __future__ import annotations

import re

from app.services.payments import online
from tests.payments.gateway import MERCHANT


def csrf(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_the_owner_sets_and_removes_the_merchant_id(db, make, client, auth):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    auth.login(owner.email)
    page = client.get("/online-payments/")
    assert page.status_code == 200 and 'id="merchant-form"' in page.get_data(as_text=True)
    token = csrf(page)
    refused = client.post("/online-payments/merchant", data={"csrf_token": token, "merchant_id": "12345"})
    assert refused.status_code == 200 and online.merchant_id_of(tenant) is None
    saved = client.post("/online-payments/merchant", data={"csrf_token": token, "merchant_id": MERCHANT},
                        follow_redirects=True)
    html = saved.get_data(as_text=True)
    db.session.expire_all()
    assert online.merchant_id_of(tenant) == MERCHANT
    assert MERCHANT not in html and MERCHANT[-4:] in html
    client.post("/online-payments/merchant", data={"csrf_token": token, "clear": "y"})
    db.session.expire_all()
    assert online.merchant_id_of(tenant) is None


def test_the_page_lists_the_tenants_payments_only(db, make, client, auth, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    mine = online.start_member_payment(member, bot, amount=25_000)
    other_tenant = make.tenant()
    online.set_merchant_id(other_tenant, MERCHANT, actor="test")
    theirs = online.start_member_payment(make.member(other_tenant), make.bot(other_tenant), amount=35_000)
    db.session.commit()
    owner = make.staff(tenant, "owner")
    auth.login(owner.email)
    html = client.get("/online-payments/").get_data(as_text=True)
    assert mine.order_code in html and theirs.order_code not in html

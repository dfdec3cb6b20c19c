"""A sale the wallet could not cover alerts the owner on the overview until dismissed."""
import pytest
import sqlalchemy as sa

from app.models import TenantNotice
from app.services import wallet
from tests.test_dashboard_forms import post


def refuse_a_sale(db, make, tenant):
    wallet.set_wholesale_prices(0, 50)
    plan = make.plan(tenant, price=100_000)
    with pytest.raises(wallet.WalletInsufficient):
        wallet.charge_sale(tenant, plan, key="sale:1")
    db.session.commit()


def test_a_refused_sale_shows_on_the_overview_until_dismissed(owner_client, db, make):
    client, tenant, _ = owner_client
    refuse_a_sale(db, make, tenant)
    [notice] = db.session.scalars(sa.select(TenantNotice)).all()
    assert notice.message in client.get("/overview/").get_data(as_text=True)

    response = post(client, f"/overview/notices/{notice.id}/dismiss")

    assert response.status_code == 302
    assert notice.message not in client.get("/overview/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TenantNotice, notice.id).read_at is not None


def test_dismiss_needs_the_csrf_token(owner_client, db, make):
    client, tenant, _ = owner_client
    refuse_a_sale(db, make, tenant)
    notice = db.session.scalars(sa.select(TenantNotice)).one()
    assert client.post(f"/overview/notices/{notice.id}/dismiss").status_code == 400
    db.session.expire_all()
    assert db.session.get(TenantNotice, notice.id).read_at is None


def test_the_member_page_shows_referrals(owner_client, db, make):
    from app.services import ledger

    client, tenant, _ = owner_client
    referrer = make.member(tenant, first_name="Reza")
    make.member(tenant, referred_by_id=referrer.id)
    ledger.credit_member(referrer, 20_000, key="referral:x", kind="referral_bonus")
    db.session.commit()
    page = client.get(f"/members/{referrer.id}").get_data(as_text=True)
    assert "Invited 1 members, 0 of them bought; referral bonus earned: 20,000" in page

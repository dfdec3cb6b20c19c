"""Dashboard forms: a bad input shows its message next to the field and saves nothing; CSRF is enforced."""
import re
import uuid

import pytest
import sqlalchemy as sa

from app.models import AuditLog, Bot, LedgerEntry, PaymentCard, Plan, Promocode
from tests.dashboard_world import receipt_with_photo
from tests.helpers import csrf_token


def count(db, model, **where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def field_error(page: str, field: str) -> str:
    """The invalid-feedback text Bootstrap-Flask renders right after the field's input."""
    match = re.search(rf'id="{field}"[^>]*>\s*(?:</textarea>)?\s*<div class="invalid-feedback[^"]*">\s*([^<]+)', page)
    return match.group(1).strip() if match else ""


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, **data})


@pytest.mark.parametrize("data,field,message", [
    ({"name": "", "period_days": "30", "price": "100000"}, "name", "This field is required."),
    ({"name": "Gold", "period_days": "0", "price": "100000"}, "period_days", "Number must be between 1 and 3650."),
    ({"name": "Gold", "period_days": "30", "price": "abc"}, "price", "Enter the amount as a whole number"),
])
def test_bad_plan_is_refused_next_to_the_field(owner_client, db, data, field, message):
    client, tenant, _ = owner_client
    response = post(client, "/plans/new", **data)
    assert response.status_code == 200
    assert message in field_error(response.get_data(as_text=True), field)
    assert count(db, Plan, tenant_id=tenant.id) == 0


def test_plan_created_edited_and_archived(owner_client, db):
    client, tenant, _ = owner_client
    assert post(client, "/plans/new", name="Gold", period_days="30", price="۱۵۰,۰۰۰", is_active="y").status_code == 302
    plan = db.session.scalar(sa.select(Plan).where(Plan.tenant_id == tenant.id))
    assert (plan.name, plan.price, plan.is_active) == ("Gold", 150_000, True)
    post(client, f"/plans/{plan.id}/edit", name="Gold+", period_days="60", price="200000", is_active="y")
    post(client, f"/plans/{plan.id}/archive")
    db.session.refresh(plan)
    assert (plan.name, plan.period_days, plan.is_archived) == ("Gold+", 60, True)


def test_bad_card_number_is_refused_next_to_the_field(owner_client, db):
    client, tenant, _ = owner_client
    response = post(client, "/cards/new", card_number="6037990000000000", holder_name="A", bank_name="B", weight="1")
    assert "Luhn" in field_error(response.get_data(as_text=True), "card_number") or \
        field_error(response.get_data(as_text=True), "card_number")
    assert count(db, PaymentCard, tenant_id=tenant.id) == 0


def test_card_list_shows_masked_numbers_only(owner_client, make):
    client, tenant, _ = owner_client
    card = make.card(tenant)
    page = client.get("/cards/").get_data(as_text=True)
    assert card.masked_number in page and card.card_number not in page


def test_adjust_balance_twice_with_one_form_is_one_adjustment(owner_client, db, make):
    client, tenant, _ = owner_client
    member = make.member(tenant)
    request_id = uuid.uuid4().hex
    for _ in range(2):
        post(client, f"/members/{member.id}/adjust", request_id=request_id, amount="50,000", reason="gift")
    db.session.refresh(member)
    assert member.balance == 50_000
    assert count(db, AuditLog, tenant_id=tenant.id, action="member.adjust_balance") == 1


def test_overdraft_adjustment_is_refused_and_saves_nothing(owner_client, db, make):
    client, tenant, _ = owner_client
    member = make.member(tenant, balance=1000)
    response = post(client, f"/members/{member.id}/adjust", request_id=uuid.uuid4().hex, amount="-5000",
                    reason="oops")
    assert response.status_code == 400 and "less than the 5,000 Toman needed" in \
        field_error(response.get_data(as_text=True), "amount")
    assert count(db, LedgerEntry, member_id=member.id) == 1


def test_reject_needs_a_reason_and_approve_different_amount_credits_it(owner_client, db, make, app):
    client, tenant, owner = owner_client
    make.card(tenant)
    member = make.member(tenant)
    receipt = receipt_with_photo(db, make, tenant, member, instance_path=app.instance_path, amount=300_000)
    response = post(client, f"/receipts/{receipt.id}/reject", reason="")
    assert response.status_code == 400 and "This field is required." in field_error(
        response.get_data(as_text=True), "reason")
    assert post(client, f"/receipts/{receipt.id}/approve", amount="250000").status_code == 302
    db.session.refresh(member)
    db.session.refresh(receipt)
    assert (member.balance, receipt.status, receipt.reviewed_by_account_id) == (250_000, "approved", owner.id)
    history = client.get("/receipts/history").get_data(as_text=True)
    assert receipt.tracking_code in history and owner.email in history


def test_receipt_photo_is_served_to_staff_only(owner_client, db, make, app, auth):
    client, tenant, _ = owner_client
    make.card(tenant)
    receipt = receipt_with_photo(db, make, tenant, make.member(tenant), instance_path=app.instance_path)
    response = client.get(f"/receipts/{receipt.id}/photo")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "private" in response.headers["Cache-Control"]


def test_post_without_csrf_token_is_refused(owner_client, db):
    client, tenant, _ = owner_client
    response = client.post("/plans/new", data={"name": "Gold", "period_days": "30", "price": "100000"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert count(db, Plan, tenant_id=tenant.id) == 0


def test_promocode_duplicate_is_refused_next_to_the_code(owner_client, db):
    client, tenant, _ = owner_client
    assert post(client, "/promocodes/new", code="spring", kind="xp", value="10").status_code == 302
    response = post(client, "/promocodes/new", code="SPRING", kind="xp", value="10")
    assert "exists already" in field_error(response.get_data(as_text=True), "code")
    assert count(db, Promocode, tenant_id=tenant.id) == 1


def test_promocode_is_created_shown_with_its_redemptions_and_disabled_with_an_audit(owner_client, db, make):
    from app.services import promocodes
    client, tenant, owner = owner_client
    refused = post(client, "/promocodes/new", code="summer", kind="discount_percent", value="100")
    assert "1 to 99 percent" in field_error(refused.get_data(as_text=True), "code")
    assert post(client, "/promocodes/new", code="summer", kind="xp", value="25", max_uses="5").status_code == 302
    promo = db.session.scalar(sa.select(Promocode).where(Promocode.tenant_id == tenant.id))
    member = make.member(tenant, telegram_id=424242)
    promocodes.redeem(member, "SUMMER")
    db.session.commit()
    assert "424242" not in client.get(f"/promocodes/{promo.id}").get_data(as_text=True)
    assert f"/members/{member.id}" in client.get(f"/promocodes/{promo.id}").get_data(as_text=True)

    assert post(client, f"/promocodes/{promo.id}/disable").status_code == 302

    db.session.expire_all()
    assert db.session.get(Promocode, promo.id).is_active is False
    actions = db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.tenant_id == tenant.id, AuditLog.actor == f"account:{owner.id}")).all()
    assert {"promocode.create", "promocode.disable"} <= set(actions)


def test_sign_in_is_throttled_after_five_failures(client, make, auth, db):
    account = make.account()
    auth.use_language("en")
    for _ in range(5):
        auth.login(account.email, "wrong-password")
    response = auth.login(account.email)
    assert response.status_code == 429 and "Too many sign-in attempts" in response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302


def test_change_password(client, make, auth, db):
    account = make.account()
    auth.use_language("en")
    auth.login(account.email)
    token = csrf_token(client.get("/account/password"))
    bad = client.post("/account/password", data={"csrf_token": token, "current_password": "nope",
                                                  "new_password": "new-password-1", "confirm": "new-password-1"})
    assert "The current password is wrong." in field_error(bad.get_data(as_text=True), "current_password")
    client.post("/account/password", data={"csrf_token": token, "current_password": "correct-horse-42",
                                            "new_password": "new-password-1", "confirm": "new-password-1"})
    db.session.refresh(account)
    assert account.check_password("new-password-1")


def test_invitation_link_works_once(owner_client, app, db):
    client, tenant, _ = owner_client
    page = post(client, "/staff/invite", role="approver").get_data(as_text=True)
    link = re.search(r"(/invite/[A-Za-z0-9_-]+)", page).group(1)
    guest = app.test_client()
    token = csrf_token(guest.get(link))
    response = guest.post(link, data={"csrf_token": token, "email": "new@example.com", "password": "long-enough-1"})
    assert response.status_code == 302
    assert guest.get("/").headers["Location"].endswith("/receipts/")
    assert app.test_client().get(link).status_code == 404


def test_bot_is_connected_after_getme_and_a_duplicate_is_refused(owner_client, db, app):
    from bots.emulator.server import SandboxServer

    client, tenant, _ = owner_client
    sandbox = SandboxServer().start()
    configured, app.config["TELEGRAM_API_URL"] = app.config["TELEGRAM_API_URL"], sandbox.url
    try:
        assert post(client, "/bots/new", token="7123456:real-looking-token").status_code == 302
        response = post(client, "/bots/new", token="7123456:real-looking-token")
        assert "already connected" in field_error(response.get_data(as_text=True), "token")
        bot = db.session.scalar(sa.select(Bot).where(Bot.tenant_id == tenant.id))
        assert (bot.telegram_bot_id, bot.username) == (7123456, "sandbox7123456_bot")
        post(client, f"/bots/{bot.id}/toggle")
        db.session.refresh(bot)
        assert (bot.is_active, bot.config_version) == (False, 2)
        assert "real-looking-token" not in client.get(f"/bots/{bot.id}").get_data(as_text=True)
    finally:
        app.config["TELEGRAM_API_URL"] = configured
        sandbox.stop()


def test_platform_admin_creates_a_tenant_tops_up_and_sets_prices(client, make, auth, db):
    from app.models import Tenant
    from app.services.wallet import wholesale_prices

    admin = make.account(platform_admin=True)
    auth.login(admin.email)
    token = csrf_token(client.get("/admin/tenants"))
    bad = client.post("/admin/tenants/new", data={"csrf_token": token, "name": "Shop", "owner_email": "nope"})
    assert bad.status_code == 400 and count(db, Tenant) == 0
    client.post("/admin/tenants/new", data={"csrf_token": token, "name": "Shop", "owner_email": "o@example.com",
                                            "owner_password": "long-enough-1"})
    tenant = db.session.scalar(sa.select(Tenant))
    request_id = uuid.uuid4().hex
    for _ in range(2):
        client.post(f"/admin/tenants/{tenant.id}/topup", data={"csrf_token": token, "request_id": request_id,
                                                                "amount": "1,000,000"})
    client.post("/admin/prices", data={"csrf_token": token, "wholesale_per_gb": "۲٬۰۰۰", "wholesale_percent": "5"})
    db.session.refresh(tenant)
    assert tenant.wallet_balance == 1_000_000 and wholesale_prices() == {"per_gb": 2000, "percent": 5}

"""A journey in Persian: the owner changes the referral bonus on the settings page, and the bot pays the new
bonus, as the referrer reads it in the Sandbox chat page when a friend they invited makes a first purchase."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import Member, Receipt, Tenant
from bots.formatting import money
from bots.i18n import t
from tests.bots.conftest import REAL_HANDLERS
from tests.engine.conftest import bot_app, sandbox_server, start_manager  # noqa: F401
from tests.factories import PASSWORD
from tests.test_dashboard_browser import TOKEN, bot_says, browser, live_server, receipt_png, shot  # noqa: F401
from tests.waiting import wait_for

REFERRER, FRIEND = 990_000_101, 990_000_202
BONUS = 35_000


def send(page, text: str) -> None:
    page.fill("#text", text)
    page.click("#send-form button[type=submit]")


def member(db, tenant, telegram_id) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == telegram_id))


def test_the_owner_sets_the_referral_bonus_and_the_referrer_is_paid_it(browser, live_server, start_manager,  # noqa: F811
                                                                        make, db, tmp_path):
    owner = make.account()
    tenant = make.tenant(owner=owner, wallet_credit_limit=10_000_000, default_language="fa")
    make.plan(tenant, name="طلایی", price=50_000, period_days=30)
    make.card(tenant, number="6037991111111112", holder_name="سارا احمدی", bank_name="ملی")
    make.bot(tenant, token=TOKEN)
    db.session.commit()
    start_manager(BOT_HANDLERS=REAL_HANDLERS)
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/login")
    page.click("#language-switch button[value=fa]")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/overview/")

    page.goto(f"{live_server}/settings/")
    page.fill("#referral_bonus_toman", "۳۵٬۰۰۰")                     # typed with Persian digits
    page.click("#tenant-settings input[type=submit]")
    page.wait_for_url("**/settings/")
    assert page.input_value("#referral_bonus_toman") in ("35000", "35,000", "۳۵٬۰۰۰", "۳۵۰۰۰")
    shot(page, "20-fa-settings-referral-bonus")
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).settings["referral_bonus_toman"] == BONUS

    page.goto(f"{live_server}/sandbox?user_id={REFERRER}&name=Sara&language=fa")
    send(page, "/start")
    bot_says(page, "Sara")
    code = member(db, tenant, REFERRER).referral_code

    page.goto(f"{live_server}/sandbox?user_id={FRIEND}&name=Nima&language=fa")
    send(page, f"/start ref_{code}")
    bot_says(page, "Sara")                                              # "you joined through Sara's link"
    send(page, "/start")
    bot_says(page, "Nima").get_by_role("button", name=t("fa", "menu.plans")).click()
    bot_says(page, "طلایی").get_by_role("button", name="طلایی").click()
    bot_says(page, t("fa", "plans.pay_card")).get_by_role("button", name=t("fa", "plans.pay_card")).click()
    bot_says(page, "6037")
    image = tmp_path / "receipt.png"
    image.write_bytes(receipt_png())
    page.set_input_files("#photo", str(image))
    page.click("#upload-form button[type=submit]")
    bot_says(page, "✅")                                                 # received, waiting for review
    shot(page, "21-fa-sandbox-friend-paid")

    receipt = db.session.scalar(sa.select(Receipt).where(Receipt.tenant_id == tenant.id))
    page.goto(f"{live_server}/receipts/")
    page.click(f"text={receipt.tracking_code}")
    page.click("form[action$='/approve'] input[type=submit]")
    page.wait_for_url("**/receipts/")
    assert wait_for(lambda: member(db, tenant, REFERRER).balance == BONUS, timeout=15)

    page.goto(f"{live_server}/sandbox?user_id={REFERRER}&name=Sara&language=fa")
    told = bot_says(page, money("fa", BONUS))
    assert "🎁" in told.inner_text()
    shot(page, "22-fa-sandbox-referrer-told")

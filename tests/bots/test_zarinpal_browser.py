"""Zarinpal in a real browser (Playwright, Debian's chromium): the member's StartPay page, Pay, our result page."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import OnlinePayment, Subscription
from tests.bots.test_card_to_card import member_of
from tests.bots.test_zarinpal_journey import online_shop, url_button  # noqa: F401  (fixture)
from tests.test_dashboard_browser import browser  # noqa: F401  (fixture)


def test_a_member_pays_a_plan_on_the_gateway_page_in_a_browser(db, fleet, online_shop, browser,  # noqa: F811
                                                                drain_outbox):
    tenant, bot, plan = online_shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"zp:{plan.id}")
    page = browser.new_page()
    page.goto(url_button(sara.last()))
    page.click("#pay")
    page.wait_for_url("**/pay/zarinpal/callback**", timeout=20_000)
    result = page.locator("#result")
    assert result.get_attribute("data-status") == "paid"
    assert "پرداخت با موفقیت انجام شد" in result.inner_text()
    ref_id = page.locator("#ref-id").inner_text()
    assert page.locator("#back").get_attribute("href") == f"https://t.me/{bot.username}"

    db.session.expire_all()
    payment = db.session.scalar(sa.select(OnlinePayment))
    member = member_of(db, tenant, sara.id)
    assert payment.ref_id == ref_id and payment.status == "paid"
    assert db.session.scalar(sa.select(Subscription.plan_id).where(Subscription.member_id == member.id)) == plan.id
    drain_outbox()
    assert ref_id in sara.last_text()

"""Zarinpal through the bot, end to end over real HTTP: invoice in the bot, StartPay, pay, callback, notice."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.models import OnlinePayment, Subscription
from app.services.payments import online
from bots import formatting as fmt
from bots.i18n import t
from tests.bots.test_card_to_card import member_of
from tests.payments.gateway import MERCHANT


@pytest.fixture
def online_shop(db, make, fleet, live_app, sandbox_server):
    """A tenant whose bot offers Zarinpal (the sandbox's), the app served for the browser's callback."""
    saved = live_app.config["ZARINPAL_API_URL"]
    live_app.config["ZARINPAL_API_URL"] = sandbox_server.url
    tenant = make.tenant(name="Online shop")
    online.set_merchant_id(tenant, MERCHANT, actor="test")
    bot = make.bot(tenant)
    fleet.add(bot)
    plan = make.plan(tenant, name="Gold", price=150_000)
    db.session.commit()
    yield tenant, bot, plan
    live_app.config["ZARINPAL_API_URL"] = saved


def url_button(message) -> str:
    markup = message.get("reply_markup") or {}
    return next(b["url"] for row in markup.get("inline_keyboard", []) for b in row if b.get("url"))


def test_a_member_buys_a_plan_through_zarinpal(db, fleet, online_shop, drain_outbox):
    tenant, bot, plan = online_shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"zp:{plan.id}")

    payment = db.session.scalar(sa.select(OnlinePayment))
    invoice = sara.last()
    assert payment.order_code in invoice["text"] and "150,000 Toman" in invoice["text"]
    start_pay = url_button(invoice)
    assert start_pay.endswith(f"/pg/StartPay/{payment.authority}")

    browser = requests.Session()
    assert "id='pay'" in browser.get(start_pay, timeout=10).text
    result = browser.post(start_pay, data={"action": "pay"}, timeout=20)  # follows the redirect to our callback
    assert urlsplit(result.url).path == "/pay/zarinpal/callback" and result.status_code == 200
    assert 'data-status="paid"' in result.text and f"https://t.me/{bot.username}" in result.text

    member = member_of(db, tenant, sara.id)
    subscription = db.session.scalar(sa.select(Subscription).where(Subscription.member_id == member.id))
    assert subscription.plan_id == plan.id and member.balance == 0
    db.session.expire_all()
    payment = db.session.get(OnlinePayment, payment.id)
    assert payment.ref_id in result.text
    assert [row.kind for row in drain_outbox()] == ["telegram.notice"]
    assert sara.last_text() == t("en", "notice.online_paid_plan", amount=fmt.money("en", 150_000),
                                 ref_id=payment.ref_id, order_code=payment.order_code, plan_name="Gold")


def test_a_top_up_offers_both_methods_and_a_cancel_tells_the_member(db, fleet, make, online_shop, drain_outbox):
    tenant, bot, plan = online_shop
    make.card(tenant)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")
    assert sara.last_text() == t("en", "zarinpal.choose_method", amount=fmt.money("en", 100_000))
    sara.presses("zt:100000")
    start_pay = url_button(sara.last())
    result = requests.post(start_pay, data={"action": "cancel"}, timeout=20)
    assert 'data-status="failed"' in result.text
    payment = db.session.scalar(sa.select(OnlinePayment))
    drain_outbox()
    assert sara.last_text() == t("en", "notice.online_failed", amount=fmt.money("en", 100_000),
                                 order_code=payment.order_code)
    assert member_of(db, tenant, sara.id).balance == 0


def test_without_a_merchant_id_the_bot_offers_card_to_card_only(db, fleet, card_shop):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")
    assert db.session.scalar(sa.select(OnlinePayment)) is None
    assert "6037 9912 3456 7893" in sara.last_text()  # straight to the card invoice, as before

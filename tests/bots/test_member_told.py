"""Members are told about every change to their account, in their language, through the outbox and their bot."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import Member, Promocode, Subscription
from app.services import clock, promocodes, wallet
from bots import formatting as fmt
from bots.i18n import t
from tests.helpers import csrf_token


@pytest.fixture
def shop_with_owner(db, make, fleet, client, auth):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant)
    fleet.add(bot)
    db.session.commit()
    auth.use_language("en")
    auth.login(owner.email)
    client.token = csrf_token(client.get("/account/password"))
    return tenant, bot, client


def member_of(db, tenant, user) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == user.id))


@pytest.mark.parametrize("lang", ["fa", "en", "ru"])
def test_a_balance_adjustment_is_told_with_its_reason(db, fleet, shop_with_owner, drain_outbox, lang):
    tenant, bot, client = shop_with_owner
    sara = fleet.user(bot, language_code=lang)
    sara.says("/start")
    member = member_of(db, tenant, sara)
    response = client.post(f"/members/{member.id}/adjust", data={
        "csrf_token": client.token, "request_id": uuid.uuid4().hex, "amount": "25000", "reason": "Refund for March"})
    assert response.status_code == 302
    drain_outbox()
    expected = t(lang, "notice.balance_credited", amount=fmt.money(lang, 25_000), reason="Refund for March",
                 balance=fmt.money(lang, 25_000))
    assert sara.last_text() == expected


def test_a_debit_says_it_was_taken(db, fleet, shop_with_owner, drain_outbox, make):
    tenant, bot, client = shop_with_owner
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = member_of(db, tenant, sara)
    for amount in ("30000", "-10000"):
        client.post(f"/members/{member.id}/adjust", data={
            "csrf_token": client.token, "request_id": uuid.uuid4().hex, "amount": amount, "reason": "Correction"})
    drain_outbox()
    assert sara.last_text() == t("en", "notice.balance_debited", amount=fmt.money("en", 10_000), reason="Correction",
                                 balance=fmt.money("en", 20_000))


def test_a_granted_plan_is_told_with_its_days_and_end(db, fleet, shop_with_owner, drain_outbox, make):
    tenant, bot, client = shop_with_owner
    plan = make.plan(tenant, name="Gold", period_days=30)
    sara = fleet.user(bot, language_code="fa")
    sara.says("/start")
    member = member_of(db, tenant, sara)
    client.post(f"/members/{member.id}/grant", data={"csrf_token": client.token, "plan_id": plan.id, "days": "3"})
    drain_outbox()
    sub = db.session.scalar(sa.select(Subscription))
    assert sara.last_text() == t("fa", "notice.subscription_granted", plan_name="Gold", days="۳",
                                 ends_at=fmt.date("fa", sub.ends_at, tenant.timezone))


def test_reaching_the_traffic_limit_is_told_once(db, fleet, shop_with_owner, drain_outbox, make):
    tenant, bot, _ = shop_with_owner
    plan = make.plan(tenant, name="Silver", traffic_gb=1)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = member_of(db, tenant, sara)
    now = clock.now()
    sub = Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, status="active", starts_at=now,
                       ends_at=now + timedelta(days=30), traffic_limit_bytes=1024 ** 3, source="grant")
    db.session.add(sub)
    db.session.commit()
    for _ in range(3):
        wallet.record_traffic_consumption(sub, 600 * 1024 ** 2)
        db.session.commit()
    drain_outbox()
    told = [m["text"] for m in sara.bot_messages() if m["text"] == t("en", "notice.subscription_limited",
                                                                     plan_name="Silver")]
    assert len(told) == 1


@pytest.mark.parametrize("kind,value,expected", [
    ("balance", 5_000, lambda: t("en", "promo.redeemed_balance", code="GIFT", amount=fmt.money("en", 5_000))),
    ("discount_percent", 20, lambda: t("en", "promo.redeemed_discount", code="GIFT", percent="20")),
    ("xp", 40, lambda: t("en", "promo.redeemed_xp", code="GIFT", xp="40")),
])
def test_a_promo_code_says_what_it_gave(db, fleet, shop_with_owner, make, kind, value, expected):
    tenant, bot, _ = shop_with_owner
    promocodes.create_promocode(tenant, code="gift", kind=kind, value=value)
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    sara.says("/start promo_gift")
    assert sara.last_text() == expected()


def test_plan_days_code_names_the_plan_and_the_end(db, fleet, shop_with_owner, make):
    tenant, bot, _ = shop_with_owner
    plan = make.plan(tenant, name="Bronze")
    promocodes.create_promocode(tenant, code="week", kind="plan_days", value=7, plan=plan)
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    sara.says("/start promo_week")
    sub = db.session.scalar(sa.select(Subscription))
    assert sara.last_text() == t("en", "promo.redeemed_plan_days", code="WEEK", days="7", plan="Bronze",
                                 end=fmt.date("en", sub.ends_at, tenant.timezone))


def test_the_plan_screen_shows_the_pending_discount(db, fleet, shop_with_owner, make):
    tenant, bot, _ = shop_with_owner
    plan = make.plan(tenant, name="Gold", price=200_000)
    promocodes.create_promocode(tenant, code="off25", kind="discount_percent", value=25)
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    sara.says("/start promo_off25")
    sara.says("/menu")
    sara.presses("m:plans")
    discounted = t("en", "plans.discounted", price=fmt.money("en", 150_000), percent="25",
                   old=fmt.money("en", 200_000))
    assert discounted in sara.last_text()
    sara.presses(f"pl:{plan.id}")
    assert discounted in sara.last_text()
    assert db.session.scalar(sa.select(Promocode.uses_count)) == 1

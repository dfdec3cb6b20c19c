"""Plans and card-to-card through the bot, and the admin chat deciding receipts."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import LedgerEntry, Member, Receipt, Subscription
from bots import formatting as fmt
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID


def member_of(db, tenant, telegram_id) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == telegram_id))


def only_receipt(db) -> Receipt:
    db.session.expire_all()
    [receipt] = db.session.scalars(sa.select(Receipt)).all()
    return receipt


def test_top_up_by_photo_then_admin_approves_and_the_member_is_told(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en", first_name="Sara")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="en", username="boss")
    sara.says("/start")

    sara.presses("m:topup")
    sara.says("۲۵۰٬۰۰۰")
    receipt = only_receipt(db)
    invoice = sara.last_text()
    for part in ("6037 9912 3456 7893", "Reza Ahmadi", "Mellat", "250,000 Toman", receipt.tracking_code):
        assert part in invoice
    assert "24" in invoice  # hours the invoice stays open

    sara.sends_photo(png, caption="paid from Saderat")

    assert sara.last_text() == t("en", "payments.submitted", code=receipt.tracking_code)
    receipt = only_receipt(db)
    assert receipt.status == "pending_review" and receipt.telegram_file_id and receipt.photo_path
    [copy] = admin.bot_messages()
    # Admin chats speak the tenant's default language (Persian here).
    assert copy["photo"] and receipt.tracking_code in copy["caption"] and fmt.money("fa", 250_000) in copy["caption"]
    assert "6037 9912 3456 7893" in copy["caption"] and "Sara" in copy["caption"]

    admin.presses(f"ra:{receipt.id}")

    receipt = only_receipt(db)
    assert receipt.status == "approved" and receipt.reviewed_by_telegram_id == ADMIN_ID
    decided = admin.bot_messages()[0]
    assert decided["edited"] and decided["reply_markup"] is None
    assert t("fa", "admin.approved_by", who=f"@boss ({ADMIN_ID})", when="").strip() in decided["caption"]
    assert sara.last_text() == t("en", "payments.approved_topup", code=receipt.tracking_code,
                                 amount="250,000 Toman", balance="250,000 Toman")
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.idempotency_key == f"receipt:{receipt.id}"))
    assert entry.amount == 250_000 and member_of(db, tenant, sara.id).balance == 250_000


def test_buying_a_plan_by_card_with_a_text_reference(db, make, fleet, card_shop):
    tenant, bot = card_shop
    plan = make.plan(tenant, name="Gold", price=150_000, period_days=30, traffic_gb=50)
    sara = fleet.user(bot, language_code="fa")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="fa")
    sara.says("/start")

    sara.presses("m:plans")
    assert "Gold" in sara.last_text() and fmt.money("fa", 150_000) in sara.last_text()
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"pc:{plan.id}")
    receipt = only_receipt(db)
    sara.says("hello")
    assert sara.last_text() == t("fa", "payments.reference_hint")
    sara.says("شماره پیگیری ۱۲۳۴۵۶")
    admin.presses(f"ra:{receipt.id}")

    db.session.expire_all()
    sub = db.session.scalar(sa.select(Subscription))
    assert sub.plan_id == plan.id and only_receipt(db).text == "شماره پیگیری ۱۲۳۴۵۶"
    assert admin.bot_messages()[0]["text"].startswith("🧾")
    approved = t("fa", "payments.approved_plan", code=receipt.tracking_code, plan="Gold",
                 end=fmt.date("fa", sub.ends_at, tenant.timezone))
    first_badge = t("fa", "growth.badge", badge=t("fa", "badge.first_purchase"))
    assert sara.last_text() == f"{approved}\n\n{first_badge}"
    assert member_of(db, tenant, sara.id).balance == 0


def test_reject_with_a_canned_reason_and_with_a_typed_one(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="fa")
    sara.tops_up_with_photo(png)
    first = only_receipt(db)

    admin.presses(f"rr:{first.id}")
    assert f"rq:{first.id}:0" in str(admin.bot_messages()[0]["reply_markup"])
    admin.presses(f"rq:{first.id}:1")

    assert only_receipt(db).reject_reason == t("en", "reject.reason1")
    assert sara.last_text() == t("en", "payments.rejected", code=first.tracking_code, reason=t("en", "reject.reason1"))
    assert t("en", "reject.reason1") in admin.bot_messages()[0]["caption"]

    sara.presses("tu:100000")  # "New invoice" on the rejection message
    sara.sends_photo(png)
    second = db.session.scalar(sa.select(Receipt).where(Receipt.status == "pending_review"))
    admin.presses(f"rr:{second.id}")
    admin.says("The name on the transfer is different")

    db.session.expire_all()
    assert db.session.get(Receipt, second.id).reject_reason == "The name on the transfer is different"
    assert "The name on the transfer is different" in sara.last_text()
    assert member_of(db, tenant, sara.id).balance == 0


def test_only_listed_admins_decide_and_a_decided_receipt_is_a_stale_button(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="en")
    sara.tops_up_with_photo(png)
    receipt = only_receipt(db)
    copy = admin.bot_messages()[0]
    intruder = fleet.user(bot, language_code="en", chat_id=ADMIN_ID)  # in the admin's chat, not listed

    intruder.presses(f"ra:{receipt.id}", message=copy)
    assert intruder.callback_answers()[-1] == t("en", "admin.not_allowed")
    assert only_receipt(db).status == "pending_review"

    admin.presses(f"ra:{receipt.id}", message=copy)
    admin.presses(f"ra:{receipt.id}", message=copy)
    admin.presses(f"rr:{receipt.id}", message=copy)

    assert admin.callback_answers()[-2:] == [t("en", "admin.already_decided")] * 2
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.member_id == receipt.member_id)).all()
    assert [e.amount for e in entries] == [100_000]


def test_an_open_invoice_is_reported_instead_of_a_second_and_cancel_works(db, make, fleet, card_shop):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:200000")
    receipt = only_receipt(db)

    sara.presses("tu:500000")
    assert t("en", "payments.open_exists", code=receipt.tracking_code, amount="200,000 Toman") in \
        [m["text"] for m in sara.bot_messages()]
    assert db.session.scalar(sa.select(sa.func.count(Receipt.id))) == 1

    sara.presses(f"rx:{receipt.id}")
    assert only_receipt(db).status == "cancelled"
    assert sara.last_text() == t("en", "payments.cancelled", code=receipt.tracking_code)
    sara.presses(f"rx:{receipt.id}", message=sara.message_with_button(f"rx:{receipt.id}"))
    assert sara.callback_answers()[-1] == t("en", "payments.cannot_cancel")


def test_no_card_can_take_the_amount(db, make, fleet, shop):
    tenant, bot = shop
    make.card(tenant, daily_cap=50_000)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:topup")
    sara.says("100000")

    assert sara.last_text() == t("en", "error.no_card_available")
    assert db.session.scalar(sa.select(sa.func.count(Receipt.id))) == 0


def test_pay_from_balance_once_and_too_little_balance_offers_a_top_up(db, make, fleet, card_shop):
    tenant, bot = card_shop
    plan = make.plan(tenant, name="Silver", price=80_000)
    rich = make.member(tenant, balance=100_000, telegram_id=4242, language_code="en")
    rich_user = fleet.user(bot, user_id=rich.telegram_id, language_code="en")
    poor = fleet.user(bot, language_code="en")
    for user in (rich_user, poor):
        user.says("/start")
        user.presses("m:plans")
        user.presses(f"pl:{plan.id}")

    rich_user.presses(f"pb:{plan.id}")
    buy_message = rich_user.last()
    rich_user.presses(f"pb:{plan.id}", message=buy_message)  # a second press of the same (old) button
    poor.presses(f"pb:{plan.id}")

    assert member_of(db, tenant, rich.telegram_id).balance == 20_000
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 1
    assert "Silver" in rich_user.last_text() and "20,000" in rich_user.last_text()
    assert poor.last_text() == t("en", "plans.need_topup", balance="0 Toman", price="80,000 Toman",
                                 missing="80,000 Toman")
    poor.presses("tu:80000")
    assert only_receipt(db).amount == 80_000


def test_an_archived_plan_is_a_stale_button(db, make, fleet, card_shop):
    tenant, bot = card_shop
    plan = make.plan(tenant, name="Old")
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    plan.is_archived = True
    db.session.commit()

    sara.presses(f"pb:{plan.id}")
    sara.presses(f"pc:{plan.id}")

    assert sara.callback_answers()[-2:] == [t("en", "stale.plan")] * 2
    assert db.session.scalar(sa.select(sa.func.count(Receipt.id))) == 0

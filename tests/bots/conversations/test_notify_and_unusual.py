"""Messages from outside a conversation (jobs, dashboard decisions) and input the bot does not expect."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import Member, Receipt
from app.services import bots as bot_service
from app.services import receipts
from bots import formatting as fmt
from bots import notify
from bots.i18n import t

ADMIN_ID = 777_000_002


def test_send_to_member_uses_the_members_bot_and_language(db, make, fleet):
    tenant = make.tenant()
    first, second = make.bot(tenant), make.bot(tenant)
    fleet.add(first), fleet.add(second)
    sara = fleet.user(second, language_code="ru")
    sara.says("/start")
    member = db.session.scalar(sa.select(Member))

    sent = notify.send_to_member(member, "payments.approved_topup", code="C2C-AAAAAA",
                                 amount=lambda lang: fmt.money(lang, 5_000), balance=lambda lang: fmt.money(lang, 0))

    assert sent is not None
    assert sara.last_text() == t("ru", "payments.approved_topup", code="C2C-AAAAAA", amount="5,000 томанов",
                                 balance="0 томанов")


def test_a_member_who_blocked_the_bot_is_skipped_quietly(db, make, fleet):
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    member = make.member(tenant, telegram_id=31337)
    fleet.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendMessage", "error_code": 403,
                                   "description": "Forbidden: bot was blocked by the user", "count": 1})

    assert notify.send_to_member(member, "support.none") is None


def test_a_dashboard_decision_updates_the_admin_copy_and_tells_the_member(db, make, fleet, png):
    tenant = make.tenant()
    owner = make.staff(tenant, "approver", email="approver@example.com")
    bot = make.bot(tenant)
    fleet.add(bot)
    make.card(tenant)
    bot_service.set_setting(bot, "admin_chat_ids", [ADMIN_ID])
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")
    sara.sends_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))

    receipts.reject(receipt, receipts.Reviewer(account=owner), "Blurry photo")
    db.session.commit()
    notify.announce_decision(receipt)

    copy = admin.bot_messages()[0]
    assert copy["edited"] and copy["reply_markup"] is None and "approver@example.com" in copy["caption"]
    assert sara.last_text() == t("en", "payments.rejected", code=receipt.tracking_code, reason="Blurry photo")


def test_cancelling_a_receipt_under_review_updates_the_admin_copy(db, make, fleet, png):
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    make.card(tenant)
    bot_service.set_setting(bot, "admin_chat_ids", [ADMIN_ID])
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")
    receipt = db.session.scalar(sa.select(Receipt))
    sara.sends_photo(png)
    pending_copy = admin.bot_messages()[0]

    sara.presses(f"rx:{receipt.id}")
    admin.presses(f"ra:{receipt.id}", message=pending_copy)  # pressed on a stale view of the copy

    copy = admin.bot_messages()[0]
    assert t("fa", "admin.decided_status", status=t("fa", "receipt.cancelled")) in copy["caption"]
    assert admin.callback_answers()[-1] == t("fa", "admin.already_decided")
    db.session.expire_all()
    assert db.session.get(Receipt, receipt.id).status == "cancelled"


def test_unusual_updates_raise_nothing_and_start_still_works(db, make, fleet):
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    chat = {"id": sara.id, "type": "private", "first_name": "Sara"}
    who = {**sara.profile, "is_bot": False}
    channel = {"id": -100123, "type": "channel", "title": "News"}
    raws = [
        {"edited_message": {"message_id": 1, "date": 1, "edit_date": 2, "chat": chat, "from": who, "text": "x"}},
        {"channel_post": {"message_id": 2, "date": 1, "chat": channel, "text": "/start"}},
        {"my_chat_member": {"chat": chat, "from": who, "date": 1,
                            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True,
                                                                             "first_name": "b"}},
                            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True,
                                                                             "first_name": "b"},
                                                "until_date": 0}}},
        {"message": {"message_id": 3, "date": 1, "chat": chat, "from": who,
                     "document": {"file_id": "d1", "file_unique_id": "d1", "file_name": "a.pdf",
                                  "mime_type": "application/pdf"}}},
        {"message": {"message_id": 4, "date": 1, "chat": chat, "from": who,
                     "document": {"file_id": "d2", "file_unique_id": "d2", "mime_type": "image/png"}}},
        {"message": {"message_id": 5, "date": 1, "chat": {"id": -55, "type": "group", "title": "g"}, "from": who,
                     "text": "hello group"}},
        {"callback_query": {"id": "cq1", "from": who, "chat_instance": "1", "data": "ra:notanumber"}},
        {"callback_query": {"id": "cq2", "from": who, "chat_instance": "1", "data": "rq:1:99",
                            "message": {"message_id": 1, "date": 0, "chat": chat}}},
    ]
    for raw in raws:
        sara.sends_raw(raw)
    sara.says("x" * 10_000)
    sara.says("/start " + "ref_" + "Z" * 60)
    sara.says("/start promo_")

    sara.says("/start")
    assert sara.last_text() == t("en", "start.welcome_back", name="Sara")
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1

"""Messages from outside a conversation (jobs, dashboard decisions) and input the bot does not expect."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import Member, Receipt
from app.services import receipt_announcements, receipts
from bots import formatting as fmt
from bots import notify
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID
from tests.engine.conftest import closed_port_url
from tests.helpers import csrf_token


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


def test_a_dashboard_decision_updates_the_admin_copy_and_tells_the_member(db, make, fleet, card_shop, png, auth):
    tenant, bot = card_shop
    make.staff(tenant, "approver", email="approver@example.com")
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.tops_up_with_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))
    auth.login("approver@example.com")

    token = csrf_token(auth.client.get(f"/receipts/{receipt.id}"))
    response = auth.client.post(f"/receipts/{receipt.id}/reject", data={"csrf_token": token,
                                                                         "reason": "Blurry photo"})

    assert response.status_code == 302
    assert fleet.deliver_outbox()  # what the worker pool does right after the request's commit
    copy = admin.bot_messages()[0]
    assert copy["edited"] and copy["reply_markup"] is None and "approver@example.com" in copy["caption"]
    assert sara.last_text() == t("en", "payments.rejected", code=receipt.tracking_code, reason="Blurry photo")


def test_telling_the_member_never_fails_when_telegram_is_unreachable(db, make, fleet, card_shop, png, monkeypatch,
                                                                    drain_outbox):
    from telebot import apihelper

    tenant, bot = card_shop
    owner = make.staff(tenant, "approver")
    sara = fleet.user(bot, language_code="en")
    sara.tops_up_with_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))
    receipts.approve(receipt, receipts.Reviewer(account=owner))
    receipt_announcements.announce_decision(receipt)
    db.session.commit()
    monkeypatch.setitem(fleet.app.config, "TELEGRAM_API_URL", closed_port_url())
    monkeypatch.setattr(apihelper, "API_URL", apihelper.API_URL)  # restored after the test

    delivered = drain_outbox()

    assert sara.last_text() == t("en", "payments.submitted", code=receipt.tracking_code)
    assert {m.status for m in delivered} == {"pending"}  # retried later with backoff
    assert all("unreachable" in m.last_error for m in delivered if m.kind == "receipt.decision")


def test_cancelling_a_receipt_under_review_updates_the_admin_copy(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.tops_up_with_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))
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


def test_job_notices_reach_the_member_in_their_language(db, make, fleet, drain_outbox):
    from app.services import notify as notices

    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot, language_code="fa")
    sara.says("/start")
    member = db.session.scalar(sa.select(Member))
    ends = "2030-03-20T06:00:00+00:00"

    notices.notify_member(member, "subscription_reminder_3d", subscription_id=1, plan_name="Gold", ends_at=ends, days=3)
    notices.notify_member(member, "receipt_expired", receipt_id=1, tracking_code="C2C-ABCDEF", amount=90_000)
    before = len(sara.bot_messages())
    db.session.commit()
    assert len(sara.bot_messages()) == before  # written, not sent: only a worker sends

    delivered = drain_outbox()

    assert [row.status for row in delivered] == ["done", "done"]
    reminder, expired = sara.bot_messages()[-2:]
    assert reminder["text"] == t("fa", "notice.subscription_reminder_3d", plan_name="Gold", ends_at="۱۴۰۸/۱۲/۳۰",
                                 days="۳")
    assert expired["text"] == t("fa", "notice.receipt_expired", tracking_code="C2C-ABCDEF",
                                amount=fmt.money("fa", 90_000))
    assert "m:plans" in str(expired["reply_markup"])
    assert delivered[1].result["message_id"] == expired["message_id"]


def test_a_rolled_back_notice_is_never_sent(db, make, fleet, drain_outbox):
    from app.services import notify as notices

    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    before = len(sara.bot_messages())
    member = db.session.scalar(sa.select(Member))

    notices.notify_member(member, "receipt_expired", receipt_id=1, tracking_code="C2C-ABCDEF", amount=1)
    db.session.rollback()

    assert drain_outbox() == []
    assert len(sara.bot_messages()) == before



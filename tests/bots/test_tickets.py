"""Support tickets through the sandbox: member -> admin chat copy -> admin's reply -> member."""
from __future__ import annotations

import time

import sqlalchemy as sa

from app.models import Ticket, TicketMessage
from app.services import tickets
from bots import formatting as fmt
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID


def admin_reply(fleet, bot, copy: dict, text: str):
    """The admin answers in their chat with the bot by replying to the ticket's copy."""
    admin = fleet.user(bot, user_id=ADMIN_ID, first_name="Admin", language_code="en")
    return admin.sends_raw({"message": {
        "message_id": 0, "date": int(time.time()), "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Admin"},
        "from": {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin"}, "text": text,
        "reply_to_message": {"message_id": copy["message_id"], "date": copy["date"],
                             "chat": {"id": ADMIN_ID, "type": "private"},
                             "from": {"id": bot.telegram_bot_id, "is_bot": True, "first_name": "bot"},
                             "text": copy["text"]}}})


def admin_messages(fleet, bot):
    return [m for m in fleet.get(f"/sandbox/chats/{ADMIN_ID}/messages", bot_id=bot.telegram_bot_id)["messages"]
            if m["from_bot"]]


def test_ticket_from_the_member_to_the_admin_chat_and_back(db, card_shop, fleet, drain_outbox):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en", first_name="Sara")
    sara.says("/start")
    sara.presses("m:support")
    sara.presses("tk:new")
    assert sara.last_text() == t("en", "ticket.ask")
    sara.says("My VPN link stopped working since yesterday")
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.status == "open" and ticket.subject.startswith("My VPN link")
    assert sara.last_text() == t("en", "ticket.opened", number=fmt.digits("en", ticket.id))

    drain_outbox()
    copy = admin_messages(fleet, bot)[-1]
    assert "My VPN link stopped working" in copy["text"] and f"#{fmt.digits('fa', ticket.id)}" in copy["text"]

    admin_reply(fleet, bot, copy, "Please update the app and try again.")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "answered"
    drain_outbox()
    expected = t("en", "ticket.answered", number=fmt.digits("en", ticket.id), text="Please update the app and try again.")
    assert sara.last_text() == expected

    sara.presses(f"tk:open:{ticket.id}")
    assert "Please update the app" in sara.last_text()
    sara.presses(f"tk:add:{ticket.id}")
    sara.says("Works now, thanks!")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "open"
    assert [m.author for m in db.session.scalars(sa.select(TicketMessage).order_by(TicketMessage.id))] == [
        "member", "staff", "member"]


def test_a_photo_ticket_and_the_list_of_tickets(db, card_shop, fleet, drain_outbox, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="fa")
    sara.says("/start")
    sara.presses("m:support")
    sara.presses("tk:new")
    sara.sends_photo(png, caption="این خطا را می‌بینم")
    entry = db.session.scalar(sa.select(TicketMessage))
    assert entry.photo_file_id and entry.text == "این خطا را می‌بینم" and entry.photo_path.endswith(".png")
    drain_outbox()
    assert admin_messages(fleet, bot)[-1]["photo"]
    sara.presses("m:home")
    sara.presses("m:support")
    sara.presses("tk:list")
    assert t("fa", "ticket.list_title") in sara.last_text()


def test_flood_of_tickets_is_refused_and_the_feature_can_be_off(db, card_shop, fleet):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    for n in range(tickets.OPENED_PER_HOUR + 1):
        sara.says("/start")
        sara.presses("m:support")
        sara.presses("tk:new")
        sara.says(f"question {n}")
    assert sara.last_text() == t("en", "error.ticket_limit")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == tickets.OPENED_PER_HOUR

    _flag_off(db, bot)
    db.session.commit()
    sara.says("/start")
    sara.presses("m:support")
    assert "tk:new" not in str(sara.last().get("reply_markup"))


def _flag_off(db, bot):
    from app.services import settings
    settings.update(bot, {"tickets": False}, by="system")   # bumps config_version: the bots re-read their flags


def test_a_reply_to_something_else_in_the_admin_chat_is_not_a_ticket_answer(db, card_shop, fleet, drain_outbox):
    tenant, bot = card_shop
    admin = fleet.user(bot, user_id=ADMIN_ID, first_name="Admin", language_code="en")
    admin.says("/start")
    menu = admin.last()
    admin_reply(fleet, bot, menu, "hello")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketMessage)) == 0


def test_ticket_pictures_are_checked_and_kept_only_as_our_clean_copy(db, make, card_shop, fleet, drain_outbox, auth):
    """#17: ticket attachments are validated as receipt images are (app.services.images)."""
    from pathlib import Path

    from PIL import Image

    from tests.bots.test_receipt_images import HTML, jpeg_with_exif

    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:support")
    sara.presses("tk:new")
    sara.sends_document(HTML, "error.png", "image/png")
    assert sara.last_text() == t("en", "error.image_rejected") and db.session.scalar(sa.select(Ticket)) is None

    sara.sends_document(jpeg_with_exif(), "screen.jpg", "image/jpeg", caption="this error")  # still asked for
    entry = db.session.scalar(sa.select(TicketMessage))
    assert entry.photo_file_id is None and entry.text == "this error" and entry.photo_path.endswith(".jpg")
    stored = (Path(fleet.app.instance_path) / entry.photo_path).read_bytes()
    assert b"SpyCam" not in stored and not Image.open(__import__("io").BytesIO(stored)).getexif()
    drain_outbox()
    assert admin_messages(fleet, bot)[-1]["photo"]  # uploaded: a document's file_id is no photo

    auth.login(make.staff(tenant, "support", email="support@example.com").email)
    page = auth.client.get(f"/tickets/{entry.ticket_id}").get_data(as_text=True)
    url = f"/tickets/{entry.ticket_id}/photos/{entry.id}"
    assert url in page
    response = auth.client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg" and response.data == stored
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert auth.client.get(f"/tickets/{entry.ticket_id}/photos/{entry.id + 99}").status_code == 404

"""The sandbox chat page, its JSON feed and the actions of the test user (CSRF on every POST)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify, render_template, request
from flask_babel import gettext as _

from app.extensions import db
from app.models import Bot, Role
from app.sandbox_chat import bp, client
from app.tenant_context import current_tenant, get_owned_or_404, roles_required

LANGUAGES = ("fa", "en", "ru")
MAX_PHOTO_BYTES = 5 * 1024 * 1024
DEFAULT_USER_ID = 990_000_001


@bp.get("")
@roles_required(Role.OWNER)
def chat():
    """Pick a bot and a test user; the conversation is drawn by static/js/sandbox_chat.js."""
    tenant = current_tenant()
    if tenant is None:
        abort(404)
    bots = db.session.scalars(sa.select(Bot).where(Bot.tenant_id == tenant.id).order_by(Bot.id)).all()
    bot = get_owned_or_404(Bot, request.args.get("bot_id", type=int)) if request.args.get("bot_id") else (
        bots[0] if bots else None)
    return render_template("sandbox_chat/chat.html", bots=bots, bot=bot, user=_test_user(request.args, tenant))


@bp.get("/messages")
@roles_required(Role.OWNER)
def messages():
    bot, user = _bot_and_user(request.args)
    pending = [query_id for query_id in (request.args.get("answers") or "").split(",") if query_id][:20]
    try:
        return jsonify(messages=[_shown(m) for m in client.messages(bot, user["id"])],
                       answers=client.callback_answers(bot, pending) if pending else [])
    except client.SandboxUnavailable as exc:
        return jsonify(error=str(exc)), 503


@bp.get("/photo")
@roles_required(Role.OWNER)
def photo():
    bot = get_owned_or_404(Bot, request.args.get("bot_id", type=int) or 0)
    try:
        data = client.photo_bytes(bot, request.args.get("file_id", ""))
    except client.SandboxUnavailable:
        abort(404)
    return data, 200, {"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=3600"}


@bp.post("/send")
@roles_required(Role.OWNER)
def send():
    bot, user = _bot_and_user(request.form)
    text = (request.form.get("text") or "").strip()
    if not text:
        return jsonify(error=_("Type a message first.")), 400
    return _post(bot, user, text=text[:4096])


@bp.post("/upload")
@roles_required(Role.OWNER)
def upload():
    bot, user = _bot_and_user(request.form)
    image = request.files.get("photo")
    data = image.read(MAX_PHOTO_BYTES + 1) if image else b""
    if not data or len(data) > MAX_PHOTO_BYTES:
        return jsonify(error=_("Choose an image of at most 5 MB.")), 400
    caption = (request.form.get("caption") or "").strip()[:1024]
    return _post(bot, user, photo=data, **({"caption": caption} if caption else {}))


@bp.post("/press")
@roles_required(Role.OWNER)
def press():
    bot, user = _bot_and_user(request.form)
    message_id = request.form.get("message_id", type=int)
    data = request.form.get("data") or ""
    if message_id is None or not data:
        return jsonify(error=_("That button has no data.")), 400
    return _post(bot, user, callback={"message_id": message_id, "data": data})


@bp.post("/pay")
@roles_required(Role.OWNER)
def pay():
    """Pay a Stars invoice of the conversation as the test user; the bot may refuse (error_message)."""
    bot, user = _bot_and_user(request.form)
    slug = request.form.get("invoice") or ""
    if not slug or len(slug) > 64:
        return jsonify(error=_("That invoice cannot be paid.")), 400
    try:
        outcome = client.pay(bot, user, slug)
    except client.SandboxUnavailable as exc:
        return jsonify(error=str(exc)), 503
    if outcome.get("status") == "timeout":
        return jsonify(result=outcome, error=_("The bot did not confirm the payment in time."))
    return jsonify(result=outcome)


def _post(bot: Bot, user: dict, **content):
    try:
        return jsonify(result=client.send(bot, user, **content))
    except client.SandboxUnavailable as exc:
        return jsonify(error=str(exc)), 503


def _bot_and_user(values) -> tuple[Bot, dict]:
    """The tenant's bot (another tenant's id is a 404) and the test user described by the form or query."""
    bot = get_owned_or_404(Bot, values.get("bot_id", type=int) or 0)
    user = _test_user(values, current_tenant())
    return bot, {"id": user["id"], "first_name": user["name"], "language_code": user["language"]}


def _test_user(values, tenant) -> dict:
    user_id = values.get("user_id", type=int) or DEFAULT_USER_ID
    if not 1 <= user_id < 2**52:
        abort(400)
    language = values.get("language") if values.get("language") in LANGUAGES else tenant.default_language
    name = (values.get("name") or "Test User").strip()[:64] or "Test User"
    return {"id": user_id, "name": name, "language": language}


def _shown(message: dict) -> dict:
    """A chat-log entry reduced to what the page draws."""
    markup = message.get("reply_markup") or {}
    return {"id": message["message_id"], "from_bot": message["from_bot"], "text": message.get("text") or _payment_text(message),
            "caption": message.get("caption"), "photo": message.get("photo"), "edited": message.get("edited"),
            "invoice": _invoice(message.get("invoice")),
            "buttons": [[{"text": b.get("text"), "data": b.get("callback_data"), "url": b.get("url"),
                          "pay": bool(b.get("pay"))} for b in row]
                        for row in markup.get("inline_keyboard", [])],
            "keyboard": [[b if isinstance(b, str) else b.get("text") for b in row]
                         for row in markup.get("keyboard", [])]}


def _invoice(invoice: dict | None) -> dict | None:
    if not invoice:
        return None
    return {"slug": invoice.get("slug"), "title": invoice.get("title"), "description": invoice.get("description"),
            "amount": invoice.get("total_amount"), "currency": invoice.get("currency")}


def _payment_text(message: dict) -> str | None:
    """What a payment service message says in the conversation (Telegram draws these itself)."""
    if message.get("successful_payment"):
        return _("You paid %(amount)s ⭐", amount=message["successful_payment"]["total_amount"])
    if message.get("refunded_payment"):
        return _("%(amount)s ⭐ were refunded to you", amount=message["refunded_payment"]["total_amount"])
    return None

"""The outbox handler that hands a member their VPN service: a QR code photo with the links as copyable text.

Queued by app.services.panels.provisioning when a service is first ready ("ready") or its link was
renewed ("link_changed"). At-least-once like every Telegram send: Telegram's message_id is remembered
on the row right after the send, and a re-run of a row that has one sends nothing.
"""
from __future__ import annotations

import requests
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Member, OutboxMessage, PanelUser
from app.services import outbox
from app.services.panels.provisioning import SERVICE_CARD_KIND
from app.services.panels.services import Service
from app.worker.delivery import remember
from bots import notify, outbound
from bots.context import language_of
from bots.i18n import t
from bots.keyboards import button, keyboard
from bots.service_views import card_caption, qr_png


@outbox.handler(SERVICE_CARD_KIND)
def deliver_service_card(message: OutboxMessage) -> None:
    """Send the QR photo of the service's subscription link, with the links in the caption."""
    if message.result and message.result.get("message_id"):
        return
    member = db.session.get(Member, message.payload["member_id"])
    panel_user = db.session.get(PanelUser, message.payload["panel_user_id"])
    if member is None or panel_user is None or not panel_user.subscription_url:
        raise outbox.Permanent("member or service gone, or no link")
    bot = notify.bot_for_member(member)
    if bot is None:
        raise outbox.Permanent("the tenant has no active bot")
    lang = language_of(member, member.tenant)
    caption = card_caption(lang, Service(panel_user.subscription, panel_user), member.tenant.timezone,
                           message.payload.get("reason", "ready"))
    sent = _send_photo(bot, member.telegram_id, qr_png(panel_user.subscription_url), caption,
                       keyboard([button(t(lang, "menu.services"), "m:svc")]))
    remember(message, message_id=sent.message_id, chat_id=member.telegram_id)


def _send_photo(bot, chat_id: int, png: bytes, caption: str, markup):
    outbound.configure()
    telebot = notify.telebot_for(bot)
    outbound.pace(telebot, chat_id)
    try:
        return telebot.send_photo(chat_id, png, caption=caption, parse_mode="HTML",
                                                  reply_markup=markup)
    except ApiTelegramException as exc:
        outbound.note_blocked(telebot, chat_id, exc)
        raise outbound.telegram_failure(exc) from None
    except requests.RequestException as exc:
        raise ConnectionError(f"Telegram unreachable: {type(exc).__name__}") from None

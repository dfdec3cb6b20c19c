"""My services: each VPN service's link, days left and traffic, and its QR code on request."""
from __future__ import annotations

from telebot.apihelper import ApiTelegramException

from app.services.panels import services as vpn
from bots import replies
from bots.handlers.common import int_arg, on_callback, on_message
from bots.keyboards import button, home_row, keyboard
from bots.service_views import qr_png, service_text

TEXT_LIMIT = 4096


def services_text(ctx, listed) -> str:
    """Every service with its links, fitted to one message without cutting an HTML tag in two."""
    if not listed:
        return ctx.t("services.none")
    for config_links, shown in ((None, len(listed)), (2, len(listed)), (0, len(listed)), (0, 3), (0, 1)):
        blocks = [ctx.t("services.title")] + [service_text(ctx.lang, service, ctx.tenant.timezone,
                                                           max_config_links=config_links)
                                              for service in listed[:shown]]
        text = "\n\n".join(blocks)
        if len(text) <= TEXT_LIMIT:
            return text
    return ctx.t("services.title")


def services_markup(ctx, listed):
    qr_buttons = [[button(ctx.t("services.qr", plan=s.subscription.plan.name[:30]), f"svc:qr:{s.panel_user.id}")]
                  for s in listed if s.ready]
    return keyboard(*qr_buttons, [button(ctx.t("menu.plans"), "m:plans")], home_row(ctx))


@on_callback
def my_services(ctx, call):
    listed = vpn.services_of(ctx.member)
    try:
        ctx.telebot.edit_message_text(services_text(ctx, listed), call.message.chat.id,
                                      call.message.message_id, reply_markup=services_markup(ctx, listed),
                                      parse_mode="HTML")
    except ApiTelegramException:  # an old message cannot be edited: send the screen anew
        ctx.send(services_text(ctx, listed), services_markup(ctx, listed), parse_mode="HTML")


@on_message
def services_command(ctx, message):
    listed = vpn.services_of(ctx.member)
    ctx.send(services_text(ctx, listed), services_markup(ctx, listed), parse_mode="HTML")


@on_callback
def service_qr(ctx, call):
    """Send the QR code of one of the member's services (another member's id finds nothing)."""
    panel_user_id = int_arg(call, 2)
    service = vpn.service_of(ctx.member, panel_user_id) if panel_user_id else None
    if service is None or not service.ready:
        return ctx.t("services.not_ready")
    caption = service_text(ctx.lang, service, ctx.tenant.timezone, max_config_links=1)[:1024]
    replies.call(ctx.telebot, "send_photo", chat_id=ctx.chat_id, photo=qr_png(service.link), caption=caption,
                 parse_mode="HTML")  # after the update commits, like every reply
    return None


def register(bot) -> None:
    bot.register_message_handler(services_command, commands=["services"], pass_bot=True)
    bot.register_callback_query_handler(my_services, func=lambda c: c.data == "m:svc", pass_bot=True)
    bot.register_callback_query_handler(service_qr, func=lambda c: (c.data or "").startswith("svc:qr:"),
                                        pass_bot=True)

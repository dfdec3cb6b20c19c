"""/start with deep links, the main menu and the language choice."""
from __future__ import annotations

from telebot.util import extract_arguments

from app.services import settings
from bots import i18n
from bots.handlers import promo, referrals
from bots.handlers.common import arg, edit, on_callback, on_message
from bots.keyboards import language_menu, main_menu


@on_message
def start(ctx, message):
    """Welcome the member (new or returning), apply a deep link, and show the main menu."""
    ctx.set_state(None)
    payload = (extract_arguments(message.text or "") or "").strip()
    ctx.send(welcome_text(ctx), main_menu(ctx))
    if payload.startswith("ref_"):
        referrals.apply_referral(ctx, payload[4:])
    elif payload.startswith("promo_"):
        promo.redeem_code(ctx, payload[6:])


def welcome_text(ctx) -> str:
    """The tenant's own welcome (per language or one text) for newcomers, else ours."""
    name = ctx.member.first_name or ctx.member.display_name
    if not ctx.is_new_member:
        return ctx.t("start.welcome_back", name=name)
    custom = settings.get(ctx.bot, "welcome_text")
    if isinstance(custom, dict):
        custom = custom.get(ctx.lang) or next(iter(custom.values()), None)
    return custom if isinstance(custom, str) and custom.strip() else ctx.t("start.welcome_new", name=name)


@on_message
def menu(ctx, message):
    """Show the main menu and forget any pending question."""
    ctx.set_state(None)
    ctx.say("menu.title", main_menu(ctx))


@on_callback
def home(ctx, call):
    """Back to the main menu, in place."""
    ctx.set_state(None)
    edit(ctx, call.message, ctx.t("menu.title"), main_menu(ctx))


@on_message
def language_command(ctx, message):
    ctx.say("language.choose", language_menu())


@on_callback
def language_menu_pressed(ctx, call):
    edit(ctx, call.message, ctx.t("language.choose"), language_menu())


@on_callback
def language_chosen(ctx, call):
    """Save the chosen language and answer in it."""
    lang = i18n.normalize_language(arg(call))
    if lang is None:
        return ctx.t("stale.button")
    ctx.member.language_code = lang
    ctx.lang = lang
    edit(ctx, call.message, ctx.t("language.saved"), main_menu(ctx))
    return ctx.t("language.saved")


def register(bot) -> None:
    bot.register_message_handler(start, commands=["start"], pass_bot=True)
    bot.register_message_handler(menu, commands=["menu", "help"], pass_bot=True)
    bot.register_message_handler(language_command, commands=["language", "lang"], pass_bot=True)
    bot.register_callback_query_handler(home, func=lambda c: c.data == "m:home", pass_bot=True)
    bot.register_callback_query_handler(language_menu_pressed, func=lambda c: c.data == "m:lang", pass_bot=True)
    bot.register_callback_query_handler(language_chosen, func=lambda c: (c.data or "").startswith("lang:"),
                                        pass_bot=True)

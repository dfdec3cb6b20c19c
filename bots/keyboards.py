"""Inline keyboards; every button's callback_data is checked against Telegram's 64-byte limit."""
from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

CALLBACK_DATA_LIMIT = 64
BUTTON_TEXT_LIMIT = 64


def button(text: str, data: str | None = None, url: str | None = None) -> InlineKeyboardButton:
    """One inline button; raises ValueError for callback_data longer than Telegram allows."""
    if data is not None and len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback_data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    label = text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"
    return InlineKeyboardButton(label, callback_data=data, url=url)


def keyboard(*rows, markup: InlineKeyboardMarkup | None = None) -> InlineKeyboardMarkup:
    """A keyboard from rows of buttons (into `markup` when given); empty rows are dropped."""
    markup = markup if markup is not None else InlineKeyboardMarkup()
    for row in rows:
        row = [b for b in row if b is not None]
        if row:
            markup.row(*row)
    return markup


def home_row(ctx) -> list:
    return [button(ctx.t("menu.home"), "m:home")]


class FrozenKeyboard(InlineKeyboardMarkup):
    """A keyboard built once and shared by every update that shows it: its JSON is made once too."""

    _json: str | None = None

    def to_json(self) -> str:
        if self._json is None:
            self._json = super().to_json()
        return self._json


#: The one-button keyboard back to the main menu, by language: built once (see FrozenKeyboard).
_home_keyboards: dict[str, FrozenKeyboard] = {}


def home_keyboard(ctx) -> InlineKeyboardMarkup:
    """A keyboard of the Home button only; shared by every update in that language, so never changed after."""
    markup = _home_keyboards.get(ctx.lang)
    if markup is None:
        markup = _home_keyboards[ctx.lang] = keyboard(home_row(ctx), markup=FrozenKeyboard())
    return markup


#: Main menus built so far, by everything they depend on: the bot (its id and creation, for a reused id),
#: its config_version (every change of a flag or setting bumps it), the language, whether the tenant sells
#: VPN services and whether it set a Zarinpal merchant. Bounded: cleared when it grows past MENUS_KEPT.
_menus: dict[tuple, FrozenKeyboard] = {}
MENUS_KEPT = 4096


def main_menu(ctx) -> InlineKeyboardMarkup:
    """The main menu; entries whose feature is off in this bot are left out. Built once per bot version,
    language and tenant facts (an update's own allocations were most of its cost)."""
    from app.services.panels.services import sells_vpn

    bot = ctx.bot
    vpn = ctx.sells_vpn if ctx.sells_vpn is not None else sells_vpn(ctx.tenant)
    key = (bot.id, bot.created_at, bot.config_version, ctx.lang, vpn, ctx.tenant.zarinpal_merchant_encrypted is not None)
    menu = _menus.get(key)
    if menu is None:
        if len(_menus) >= MENUS_KEPT:
            _menus.clear()
        menu = _menus[key] = _build_main_menu(ctx, vpn)
    return menu


def _build_main_menu(ctx, vpn: bool) -> FrozenKeyboard:
    from app.services.bots import feature_enabled
    from app.services.payments.online import available_for

    def item(key, data, feature=None):
        if feature and not feature_enabled(ctx.bot, feature):
            return None
        return button(ctx.t(key), data)

    topup = button(ctx.t("menu.topup"), "m:topup") if (
        feature_enabled(ctx.bot, "card_to_card") or available_for(ctx.bot)) else None

    return keyboard(
        [item("menu.plans", "m:plans"), topup],
        [item("menu.profile", "m:profile"), item("menu.subscriptions", "m:subs")],
        [item("menu.services", "m:svc") if vpn else None],
        [item("menu.use_service", "m:use", "daily_quota"), item("menu.leaderboard", "m:top", "leaderboard")],
        [item("menu.promo", "m:promo", "promocodes"), item("menu.referral", "m:ref", "referrals")],
        [item("menu.language", "m:lang"), item("menu.support", "m:support")],
        markup=FrozenKeyboard(),
    )


def language_menu() -> InlineKeyboardMarkup:
    return keyboard([button("فارسی", "lang:fa"), button("English", "lang:en"), button("Русский", "lang:ru")])


def all_callback_data(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data for row in markup.keyboard for b in row if b.callback_data]

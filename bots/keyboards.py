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


def keyboard(*rows) -> InlineKeyboardMarkup:
    """A keyboard from rows of buttons; empty rows are dropped."""
    markup = InlineKeyboardMarkup()
    for row in rows:
        row = [b for b in row if b is not None]
        if row:
            markup.row(*row)
    return markup


def home_row(ctx) -> list:
    return [button(ctx.t("menu.home"), "m:home")]


def main_menu(ctx) -> InlineKeyboardMarkup:
    """The main menu; entries whose feature is off in this bot are left out."""
    from app.services.bots import feature_enabled
    from app.services.panels.services import sells_vpn

    vpn = ctx.sells_vpn if ctx.sells_vpn is not None else sells_vpn(ctx.tenant)
    def item(key, data, feature=None):
        if feature and not feature_enabled(ctx.bot, feature):
            return None
        return button(ctx.t(key), data)

    from app.services.payments.online import available_for
    topup = button(ctx.t("menu.topup"), "m:topup") if (
        feature_enabled(ctx.bot, "card_to_card") or available_for(ctx.bot)) else None

    return keyboard(
        [item("menu.plans", "m:plans"), topup],
        [item("menu.profile", "m:profile"), item("menu.subscriptions", "m:subs")],
        [item("menu.services", "m:svc") if vpn else None],
        [item("menu.use_service", "m:use", "daily_quota"), item("menu.leaderboard", "m:top", "leaderboard")],
        [item("menu.promo", "m:promo", "promocodes"), item("menu.referral", "m:ref", "referrals")],
        [item("menu.language", "m:lang"), item("menu.support", "m:support")],
    )


def language_menu() -> InlineKeyboardMarkup:
    return keyboard([button("فارسی", "lang:fa"), button("English", "lang:en"), button("Русский", "lang:ru")])


def all_callback_data(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data for row in markup.keyboard for b in row if b.callback_data]

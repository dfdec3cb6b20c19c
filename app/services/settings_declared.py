"""Every setting of Botfleet, declared once: scope, kind, default, bounds, label and one-line effect.

Read and written only through app/services/settings.py. Labels and help are dashboard strings (fa/en catalog).
Tenant settings are grouped for the settings page: sales, growth, bots, locale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l


class Scope(str, Enum):
    TENANT = "tenant"
    BOT = "bot"
    PLATFORM = "platform"


class Kind(str, Enum):
    INT = "int"              # a whole number within [minimum, maximum]
    BOOL = "bool"
    TEXT = "text"            # a line or a paragraph up to max_length; empty means the default
    CHOICE = "choice"        # one of `choices`
    CHOICES = "choices"      # any subset of `choices`
    INT_LIST = "int_list"    # whole numbers within bounds, at most max_items
    LEVELS = "levels"        # a level table: starts at 0, rises strictly
    CHAT_IDS = "chat_ids"    # Telegram chat ids (may be negative)
    TIMEZONE = "timezone"    # an IANA zone name
    LOCALIZED_TEXT = "localized_text"  # one text for every language, or {"fa": ..., "en": ..., "ru": ...}


#: Who may change a setting: a tenant owner (tenant and bot scope) or a platform admin (platform scope).
OWNER, PLATFORM_ADMIN = "owner", "platform_admin"


@dataclass(frozen=True)
class Setting:
    key: str
    scope: Scope
    kind: Kind
    default: Any
    label: Any
    help: Any
    group: str = ""
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    max_items: int | None = None
    choices: tuple = field(default=())
    #: A typed Tenant column that stores it instead of Tenant.settings (tenant scope only).
    column: str | None = None
    #: Stored as a FeatureFlag row (bot scope only): the flag's key is the setting's key.
    feature_flag: bool = False
    editor: str = OWNER


T, B, P = Scope.TENANT, Scope.BOT, Scope.PLATFORM
MAX_TOMAN = 1_000_000_000
XP_SOURCES = ("purchase", "topup", "daily_visit", "referral", "promocode", "manual", "api")
LANGUAGES = ("fa", "en", "ru")
DEFAULT_LEVELS = (0, 100, 250, 500, 1000, 2000, 3500, 5500, 8000, 12000)

DECLARED: tuple[Setting, ...] = (
    # sales
    Setting("receipt_timeout_hours", T, Kind.INT, 24, _l("Receipt review window (hours)"),
            _l("An unreviewed receipt expires after this many hours and the member may send a new one."),
            group="sales", minimum=1, maximum=720, column="receipt_timeout_hours"),
    Setting("topup_presets", T, Kind.INT_LIST, [100_000, 200_000, 500_000], _l("Top-up buttons (Toman)"),
            _l("The amounts the bot offers as buttons when a member tops up the balance (up to three)."),
            group="sales", minimum=1_000, maximum=MAX_TOMAN, max_items=3),
    Setting("ticket_autoclose_days", T, Kind.INT, 7, _l("Close answered tickets after (days)"),
            _l("An answered ticket whose member does not write again is closed after this many days."),
            group="sales", minimum=1, maximum=365),
    Setting("bank_sms_mode", T, Kind.CHOICE, "suggest", _l("Bank SMS matching"),
            _l("auto: a deposit SMS that matches exactly one open invoice approves it; suggest: it is only "
               "shown in the bank messages queue for a person to approve."),
            group="sales", choices=("auto", "suggest")),
    Setting("bank_sms_unique_amounts", T, Kind.BOOL, False, _l("Unique invoice amounts"),
            _l("Add 1 to 999 Toman to each card-to-card invoice so no two open invoices on one card share an "
               "amount; a deposit SMS then names its invoice."),
            group="sales"),
    # growth
    Setting("referral_bonus_toman", T, Kind.INT, 0, _l("Referral bonus (Toman)"),
            _l("Credited once to the referrer's balance when an invited friend's first payment is approved."),
            group="growth", minimum=0, maximum=MAX_TOMAN),
    Setting("referral_bonus_xp", T, Kind.INT, 50, _l("Referral bonus (XP)"),
            _l("XP given once to the referrer when an invited friend's first payment is approved."),
            group="growth", minimum=0, maximum=1_000_000),
    Setting("xp_per_10000_toman", T, Kind.INT, 1, _l("XP per 10,000 Toman paid"),
            _l("XP a member earns for every 10,000 Toman of an approved purchase or top-up."),
            group="growth", minimum=0, maximum=10_000),
    Setting("xp_daily_visit", T, Kind.INT, 5, _l("XP for a daily visit"),
            _l("XP for the first visit of each day, which also extends the member's streak."),
            group="growth", minimum=0, maximum=10_000),
    Setting("xp_sources_disabled", T, Kind.CHOICES, [], _l("XP sources switched off"),
            _l("Members earn no XP from the sources ticked here."),
            group="growth", choices=XP_SOURCES),
    Setting("levels", T, Kind.LEVELS, list(DEFAULT_LEVELS), _l("Level table (XP where each level starts)"),
            _l("Level n starts at the n-th number; it must start at 0 and rise. Levels 5 and 10 earn badges."),
            group="growth", minimum=0, maximum=1_000_000_000, max_items=100),
    # bots
    Setting("daily_quota_free", T, Kind.INT, 25, _l("Free requests per day"),
            _l("Requests a member without a subscription may use per day in each bot."),
            group="bots", minimum=0, maximum=1_000_000),
    Setting("daily_quota_premium", T, Kind.INT, 1000, _l("Premium requests per day"),
            _l("Requests per day for members with a subscription or a VIP level (a plan's own quota wins)."),
            group="bots", minimum=0, maximum=1_000_000),
    # locale
    Setting("timezone", T, Kind.TIMEZONE, "Asia/Tehran", _l("Time zone"),
            _l("Days, daily resets, reminders and charts follow this zone."),
            group="locale", column="timezone"),
    Setting("default_language", T, Kind.CHOICE, "fa", _l("Default bot language"),
            _l("The language a new member sees before choosing one."),
            group="locale", choices=LANGUAGES, column="default_language"),
    Setting("persian_digits", T, Kind.BOOL, True, _l("Persian digits in the dashboard"),
            _l("Figures in Persian pages and charts use Persian digits; CSV exports always use Latin digits."),
            group="locale"),
    # bot scope
    Setting("welcome_text", B, Kind.LOCALIZED_TEXT, None, _l("Welcome text"),
            _l("Shown on /start instead of the standard greeting."), max_length=2000),
    Setting("support_contact", B, Kind.TEXT, None, _l("Support contact"),
            _l("Shown when a member asks for support, e.g. @my_support."), max_length=120),
    Setting("admin_chat_ids", B, Kind.CHAT_IDS, [], _l("Admin chat ids"),
            _l("Chats that receive receipts to approve, comma-separated, e.g. 123456789 or -1001234567890."),
            max_items=20),
    Setting("card_to_card", B, Kind.BOOL, True, _l("Card-to-card payments"),
            _l("Members can top up and buy by bank transfer with a receipt photo."), feature_flag=True),
    Setting("promocodes", B, Kind.BOOL, True, _l("Promo codes"),
            _l("Members can redeem promo codes in this bot."), feature_flag=True),
    Setting("referrals", B, Kind.BOOL, True, _l("Referrals"),
            _l("The bot shows each member an invitation link."), feature_flag=True),
    Setting("leaderboard", B, Kind.BOOL, True, _l("Leaderboard"),
            _l("The bot shows the XP leaderboard."), feature_flag=True),
    Setting("daily_quota", B, Kind.BOOL, True, _l("Daily quota"),
            _l("The profile shows today's requests used and the daily limit."), feature_flag=True),
    Setting("tickets", B, Kind.BOOL, True, _l("Support tickets"),
            _l("Members can open support tickets from the Support menu; staff answer in the dashboard or the admin chat."),
            feature_flag=True),
    Setting("zarinpal", B, Kind.BOOL, True, _l("Zarinpal online payments"),
            _l("Members can pay online through Zarinpal once the tenant's merchant id is set (Online payments)."),
            feature_flag=True),
    # platform scope
    Setting("wholesale_per_gb", P, Kind.INT, 0, _l("Wholesale price per GB (Toman)"),
            _l("Charged to a tenant's wallet for each GB of plan traffic it sells."),
            minimum=0, maximum=MAX_TOMAN, editor=PLATFORM_ADMIN),
    Setting("wholesale_percent", P, Kind.INT, 0, _l("Wholesale share of the price (%)"),
            _l("Charged to a tenant's wallet as a share of each plan price it sells."),
            minimum=0, maximum=100, editor=PLATFORM_ADMIN),
)

TENANT_GROUPS = (("sales", _l("Sales")), ("growth", _l("Growth")), ("bots", _l("Bots")), ("locale", _l("Language and time")))
XP_SOURCE_LABELS = {"purchase": _l("purchases"), "topup": _l("top-ups"), "daily_visit": _l("daily visits"),
                    "referral": _l("referrals"), "promocode": _l("promo codes"), "manual": _l("manual awards"),
                    "api": _l("sibling services (API)")}
LANGUAGE_LABELS = {"fa": "فارسی", "en": "English", "ru": "Русский"}

"""Catalogs complete in every language, Telegram's limits on every keyboard and message, formatting."""
from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.models import ReceiptStatus, SubscriptionStatus
from app.models.types import fits_bigint
from bots import formatting as fmt
from bots import i18n, keyboards, receipt_views
from bots.context import load_bot_and_sender, load_context
from bots.handlers import payments, plans
from bots.keyboards import CALLBACK_DATA_LIMIT, all_callback_data

BOTS_DIR = Path(i18n.__file__).parent
#: Keys built at run time from a code or a status.
DYNAMIC_KEYS = ([f"subscription.{s.value}" for s in SubscriptionStatus] + [f"receipt.{s.value}" for s in ReceiptStatus]
                + [f"reject.reason{n}" for n in range(receipt_views.CANNED_REASONS)]
                + ["error.generic", "error.unavailable", "error.insufficient_funds", "error.no_card_available",
                   "error.open_receipt_exists", "error.invalid_transition", "error.invalid_amount"])


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def keys_used_in_code() -> set[str]:
    pattern = re.compile(r"""(?:\bt\([^,()]+,\s*|\.t\(|\.say\(|_text\(ctx,\s*)f?["']([a-z_]+\.[a-z0-9_.]+)["']""")
    return {key for path in BOTS_DIR.rglob("*.py") if "emulator" not in path.parts
            for key in pattern.findall(path.read_text()) if "{" not in key}


def test_every_key_exists_in_every_language_with_the_same_placeholders():
    all_keys = set().union(*(i18n.messages(lang) for lang in i18n.LANGUAGES))
    for lang in i18n.LANGUAGES:
        missing = sorted(all_keys - set(i18n.messages(lang)))
        assert not missing, f"{lang} lacks {missing}"
    for key in all_keys:
        assert len({frozenset(placeholders(i18n.messages(lang)[key])) for lang in i18n.LANGUAGES}) == 1, key


def test_every_key_the_code_uses_is_in_the_catalogs():
    used = keys_used_in_code() | set(DYNAMIC_KEYS)
    assert len(used) > 60
    missing = sorted(key for key in used if not all(i18n.has_key(lang, key) for lang in i18n.LANGUAGES))
    assert not missing


def test_the_fallbacks_and_the_engine_error_texts():
    assert i18n.t(None, "error.generic") == i18n.t("fa", "error.generic") != i18n.t("en", "error.generic")
    assert i18n.t("en", "error.generic") == "Something went wrong, please try again."
    assert i18n.t("en", "error.unavailable") == "Temporarily unavailable, please try again."
    assert i18n.t("de-DE", "menu.plans") == i18n.t("fa", "menu.plans")
    assert i18n.t("ru", "no.such.key") == "no.such.key"


def test_a_button_refuses_callback_data_over_64_bytes():
    keyboards.button("ok", "x" * CALLBACK_DATA_LIMIT)
    with pytest.raises(ValueError):
        keyboards.button("too long", "ش" * 33)


@pytest.mark.parametrize("value, fits", [(-2**63, True), (2**63 - 1, True), (-2**63 - 1, False), (2**63, False),
                                         ("1", False), (1.0, False), (None, False), (True, False), (False, False)])
def test_an_id_fits_a_bigint_exactly_when_the_database_takes_it(db, make, value, fits):
    """The webhook reads the sender and records the update's marker only for ids that fit (fits_bigint)."""
    bot = make.bot(make.tenant())
    assert fits_bigint(value) is fits
    if fits:
        (loaded, _), sender, recorded = load_bot_and_sender(bot.id, value, (value, bot.webhook_secret))
        assert loaded.id == bot.id and sender.member is None and recorded is (db.engine.dialect.name == "postgresql")


def test_every_keyboard_fits_telegram_limits_with_the_largest_ids(db, make, fleet):
    tenant = make.tenant()
    bot = make.bot(tenant)
    tb = fleet.add(bot)
    big = 2 ** 63 - 1
    with fleet.app.app_context():
        user = SimpleNamespace(id=big, username="u" * 32, first_name="F" * 200, last_name=None, language_code="ru")
        ctx = load_context(tb, user, big)
        plan = SimpleNamespace(id=big, price=10 ** 9, stars_price=100_000)
        receipt = SimpleNamespace(id=big, plan_id=big, amount=10 ** 9)
        markups = [keyboards.main_menu(ctx), keyboards.language_menu(), plans.plan_keyboard(ctx, plan),
                   plans._need_topup(ctx, plan)[1], payments.cancel_keyboard(ctx, receipt),
                   receipt_views.decision_keyboard(receipt, "ru"), receipt_views.reasons_keyboard(receipt, "ru")]
        from app.extensions import db as _db
        _db.session.rollback()
    for markup in markups:
        for data in all_callback_data(markup):
            assert len(data.encode()) <= CALLBACK_DATA_LIMIT
        assert all(len(b.text) <= keyboards.BUTTON_TEXT_LIMIT for row in markup.keyboard for b in row)


def test_long_plan_lists_and_names_stay_within_message_limits(db, make, fleet):
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    for n in range(25):
        make.plan(tenant, name=(f"{n:02d}" + "پلن بسیار طولانی " * 6)[:100], price=999_999_999, traffic_gb=10_000,
                  description="توضیح " * 400)
    user = fleet.user(bot, first_name="N" * 64, language_code="fa")
    user.says("/start")

    user.presses("m:plans")
    plan_button = next(d for d in all_data(user.last()) if d.startswith("pl:"))
    user.presses(plan_button)

    assert all(len(m["text"] or "") <= 4096 for m in user.bot_messages())
    assert len(user.last()["text"]) > 1000


def all_data(message):
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


def test_persian_amounts_and_jalali_dates():
    nowruz = datetime(2024, 3, 20, 6, 0, tzinfo=UTC)  # 1 Farvardin 1403
    moment = datetime(2024, 3, 20, 21, 0, tzinfo=UTC)  # already 21 March in Tehran
    assert fmt.money("fa", 1_250_000) == "۱٬۲۵۰٬۰۰۰ تومان"
    assert fmt.money("en", 1_250_000) == "1,250,000 Toman"
    assert fmt.date("fa", nowruz, "Asia/Tehran") == "۱۴۰۳/۰۱/۰۱"
    assert fmt.date_time("fa", moment, "Asia/Tehran") == "۱۴۰۳/۰۱/۰۲ ۰۰:۳۰"
    assert fmt.date("en", moment, "Asia/Tehran") == "2024-03-21"
    assert fmt.date_time("ru", moment, "Europe/Moscow") == "2024-03-21 00:00"
    assert fmt.card_number("6037991234567893") == "6037 9912 3456 7893"

"""Conversation fixtures: compiled catalogs, and the engine's TeleBots with the real handlers."""
from __future__ import annotations

import base64

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.services import settings
from bots import i18n
from tests.bots.harness import Fleet

REAL_HANDLERS = "bots.handlers:register_all"
ADMIN_ID = 777_000_001
CARD = "6037991234567893"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """Compile the bot catalogs (.po -> .mo) when missing or stale, as `make translations` does."""
    for lang in i18n.LANGUAGES:
        folder = i18n.LOCALES_DIR / lang / "LC_MESSAGES"
        source, target = folder / "messages.po", folder / "messages.mo"
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            with source.open("rb") as po, target.open("wb") as mo:
                write_mo(mo, read_po(po, locale=lang))
    i18n.messages.cache_clear()


@pytest.fixture
def conversation_app(bot_app, tmp_path):
    """The app pointed at the test's sandbox, with the real conversation handlers."""
    saved = bot_app.config["BOT_HANDLERS"], bot_app.instance_path
    bot_app.config["BOT_HANDLERS"] = REAL_HANDLERS
    bot_app.instance_path = str(tmp_path / "instance")
    yield bot_app
    bot_app.config["BOT_HANDLERS"], bot_app.instance_path = saved


@pytest.fixture
def fleet(conversation_app, db, sandbox_server):
    """Real TeleBots for Bot rows (fleet.add(bot)); a handler error fails the test."""
    fleet = Fleet(conversation_app, sandbox_server.url)
    yield fleet
    fleet.http.close()
    assert not fleet.errors, f"handler errors: {fleet.errors!r}"


@pytest.fixture
def png():
    return PNG


@pytest.fixture
def card_shop(db, make, fleet):
    """A tenant with one bot the fleet runs, a payment card, and ADMIN_ID as the bot's admin chat."""
    tenant = make.tenant(name="Card shop")
    bot = make.bot(tenant)
    fleet.add(bot)
    make.card(tenant, number=CARD, holder_name="Reza Ahmadi", bank_name="Mellat")
    settings.update(bot, {"admin_chat_ids": [ADMIN_ID]}, by="system")
    fleet.open_chat(ADMIN_ID, bot.telegram_bot_id)  # the admin started the bot on Telegram
    db.session.commit()
    return tenant, bot


@pytest.fixture
def shop(make, fleet):
    """A tenant with one bot the fleet runs."""
    tenant = make.tenant(name="Shop")
    bot = make.bot(tenant)
    fleet.add(bot)
    return tenant, bot

"""Bot conversation fixtures: a sandbox, compiled catalogs, and a fleet of real TeleBots."""
from __future__ import annotations

import base64

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from telebot import apihelper

from bots import i18n
from bots.emulator import SandboxServer
from tests.bots.harness import Fleet

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
def sandbox():
    server = SandboxServer(host="127.0.0.1", port=0).start()
    saved = apihelper.API_URL, apihelper.FILE_URL
    apihelper.API_URL = server.url + "/bot{0}/{1}"
    apihelper.FILE_URL = server.url + "/file/bot{0}/{1}"
    yield server
    apihelper.API_URL, apihelper.FILE_URL = saved
    server.stop()


@pytest.fixture
def fleet(app, db, sandbox):
    """Real TeleBots for Bot rows (fleet.add(bot)); a handler error fails the test unless it is expected."""
    fleet = Fleet(app, sandbox.url)
    yield fleet
    fleet.http.close()
    assert not fleet.errors, f"handler errors: {fleet.errors!r}"


@pytest.fixture
def png():
    return PNG


@pytest.fixture
def shop(make, fleet):
    """A tenant with one running bot, two plans and a card."""
    tenant = make.tenant(name="Shop")
    bot = make.bot(tenant)
    fleet.add(bot)
    return tenant, bot

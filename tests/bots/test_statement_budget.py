"""The statements one update costs: a returning member's /start at most 1 and /profile at most 2, a new
member's /start at most 6, a member new to one more bot of the tenant at most 3.

Counted with a SQLAlchemy cursor listener around one update, through the real handlers and middleware
(commit included). The bot's settings and feature flags come from a per-bot cache keyed by its
config_version, and last_activity_at is written at most every few minutes, so a returning member's
/start reads the bot, its tenant, the member and its session in one statement (the menu's "sells VPN
services" rides along) and writes nothing; a profile adds one statement (rank, and whether there is a
subscription or a badge to read). Measured when written: returning 1 (/profile 2), new 5, new to the bot 2,
on SQLite and Postgres (it was returning 3, new 7 before the context became one statement).

A webhook request (POST /tg/<bot_id>) reads the same in its first statement, the one whose bot row it checks
the secret on, and records the update's marker (dedupe): a returning member's /start 2, /profile 3 (on Postgres
1 and 2: the marker is written by that first statement).
"""
from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa

from app.services import settings
from bots.i18n import t
from tests.bots.harness import buttons

RETURNING_BUDGET, PROFILE_BUDGET, NEW_BUDGET, NEW_TO_BOT_BUDGET = 1, 2, 6, 3
#: Through the webhook (POST /tg/<bot_id>): the bot, its tenant, the member and the session in one statement
#: (the secret is checked on that row), then the update's marker, which Postgres writes in that same statement;
#: a profile adds its facts.
WEBHOOK_BUDGETS = {"/start": 2, "/profile": 3}


@contextlib.contextmanager
def counted(db, monkeypatch):
    """Statements sent while the harness runs an update (not its outbox delivery between updates)."""
    from tests.bots import harness

    statements: list[str] = []
    inside = threading.local()

    def count(conn, cursor, statement, parameters, context, executemany):
        if getattr(inside, "update", False):
            statements.append(statement)

    def counting(*args, **kwargs):
        inside.update = True
        try:
            return process_update(*args, **kwargs)
        finally:
            inside.update = False
    process_update = harness.process_update
    monkeypatch.setattr(harness, "process_update", counting)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def started(db, shop, fleet):
    """A member who has /started the bot before (today), and the bot."""
    tenant, bot = shop
    sara = fleet.user(bot, first_name="Sara", language_code="en")
    sara.says("/start")
    return sara, bot


def test_a_returning_members_start_costs_at_most_1_statement(db, started, monkeypatch):
    sara, _ = started
    with counted(db, monkeypatch) as statements:
        sara.says("/start")
    assert sara.last_text() == t("en", "start.welcome_back", name="Sara") and "m:profile" in buttons(sara.last())
    assert len(statements) <= RETURNING_BUDGET, "\n".join(statements)


def test_a_returning_members_profile_costs_at_most_2_statements(db, started, monkeypatch):
    sara, _ = started
    with counted(db, monkeypatch) as statements:
        sara.says("/profile")
    assert t("en", "profile.title") in sara.last_text() and "m:home" in buttons(sara.last())
    assert len(statements) <= PROFILE_BUDGET, "\n".join(statements)


def test_a_members_first_start_in_a_second_bot_costs_at_most_3_statements(db, started, make, fleet, monkeypatch):
    sara, bot = started
    other = make.bot(bot.tenant)
    fleet.add(other)
    db.session.commit()
    fleet.user(other, first_name="Ali").says("/start")  # the other bot's settings are cached by now
    with counted(db, monkeypatch) as statements:
        again = fleet.user(other, user_id=sara.id, first_name="Sara", language_code="en")
        again.says("/start")
    assert again.last_text() == t("en", "start.welcome_back", name="Sara")
    assert len(statements) <= NEW_TO_BOT_BUDGET, "\n".join(statements)


def test_a_new_members_start_costs_at_most_6_statements(db, started, fleet, monkeypatch):
    _, bot = started
    with counted(db, monkeypatch) as statements:
        newcomer = fleet.user(bot, first_name="Ali", language_code="fa")
        newcomer.says("/start")
    assert newcomer.last_text() == t("fa", "start.welcome_new", name="Ali") and "m:profile" in buttons(newcomer.last())
    assert len(statements) <= NEW_BUDGET, "\n".join(statements)


def test_cached_flags_and_settings_follow_the_bots_config_version(db, started):
    """A flag or setting changed through the service (which bumps config_version) shows at the next update."""
    sara, bot = started
    sara.says("/start")
    assert "m:top" in buttons(sara.last())
    settings.update(bot, {"leaderboard": False}, by="system")
    db.session.commit()
    sara.says("/menu")
    assert "m:top" not in buttons(sara.last())
    settings.update(bot, {"support_contact": "@new_help"}, by="system")
    db.session.commit()
    sara.presses("m:support")
    assert "@new_help" in sara.last_text()


@pytest.mark.parametrize("text", sorted(WEBHOOK_BUDGETS))
def test_a_returning_members_update_through_the_webhook_reads_the_member_with_the_bot(db, started, client, text):
    """Measured when written: /start 2 statements, /profile 3 on SQLite, 1 and 2 on Postgres (they were 4 and 4:
    the bot, the marker, the member, and the menu's "sells VPN services" or the profile's facts)."""
    sara, bot = started
    statements: list[str] = []
    count = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    update = {"update_id": 9_000_001, "message": {
        "message_id": 9_000_001, "date": 1_700_000_000, "text": text, "chat": {"id": sara.id, "type": "private"},
        "from": {"id": sara.id, "is_bot": False, "first_name": "Sara", "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}
    sa.event.listen(db.engine, "before_cursor_execute", count)
    url, headers = f"/tg/{bot.id}", {"X-Telegram-Bot-Api-Secret-Token": bot.webhook_secret}
    try:
        with client.application.app_context():  # the request's own session, as in production (not this test's)
            response = client.post(url, json=update, headers=headers)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    answer = response.get_json()
    assert response.status_code == 200 and answer["method"] == "sendMessage" and answer["chat_id"] == sara.id
    assert answer["text"].startswith(t("en", "start.welcome_back", name="Sara") if text == "/start"
                                     else t("en", "profile.title"))
    marker_in_the_read = db.engine.dialect.name == "postgresql"
    assert len(statements) <= WEBHOOK_BUDGETS[text] - marker_in_the_read, "\n".join(statements)

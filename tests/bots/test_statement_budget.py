"""The statements one update costs: a returning member's /start at most 4, a new member's at most 10.

Counted with a SQLAlchemy cursor listener around one update, through the real handlers and middleware
(commit included). The bot's settings and feature flags come from a per-bot cache keyed by its
config_version, and last_activity_at is written at most every few minutes, so a returning member's
/start reads the bot with its tenant and the member with its session (plus whatever a menu entry needs),
and writes nothing. Measured when written: returning 3, new 7, on SQLite and Postgres.
"""
from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa

from app.services import settings
from bots.i18n import t
from tests.bots.harness import buttons

RETURNING_BUDGET, NEW_BUDGET = 4, 10


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


def test_a_returning_members_start_costs_at_most_4_statements(db, started, monkeypatch):
    sara, _ = started
    with counted(db, monkeypatch) as statements:
        sara.says("/start")
    assert sara.last_text() == t("en", "start.welcome_back", name="Sara") and "m:profile" in buttons(sara.last())
    assert len(statements) <= RETURNING_BUDGET, "\n".join(statements)


def test_a_new_members_start_costs_at_most_10_statements(db, started, fleet, monkeypatch):
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

"""Polling mode through the real sandbox: several bots and tenants at once, errors, order, 429."""
import sqlalchemy as sa

from app.models import AuditLog, Bot, OutboxMessage
from bots.middleware import FALLBACK_TEXTS, error_text
from tests.engine.conftest import failing_statements
from tests.waiting import eventually, wait_until


def tg_id(bot):
    return bot.telegram_bot_id


def fresh(db, model, **where):
    db.session.rollback()
    return db.session.scalars(sa.select(model).filter_by(**where)).all()


def test_three_bots_of_two_tenants_answer_at_once(start_manager, sandbox, make, db, make_bot):
    first, second = make.tenant(), make.tenant()
    bots = [make_bot(first), make_bot(first), make_bot(second)]
    start_manager()
    for n, bot in enumerate(bots):
        sandbox.say(tg_id(bot), 900 + n, "/start")
    for n, bot in enumerate(bots):
        assert sandbox.wait_for_reply(tg_id(bot), 900 + n) == [f"hello from {bot.id}"]
    rows = wait_until(lambda: len(fresh(db, AuditLog, action="test.start")) == 3 and
                      fresh(db, AuditLog, action="test.start"))
    assert sorted((r.tenant_id, r.target) for r in rows) == sorted(
        (bot.tenant_id, f"bot:{bot.id}") for bot in bots)
    statuses = wait_until(lambda: all(b.status == "running" and b.last_seen_at for b in fresh(db, Bot)) and
                          fresh(db, Bot))
    assert {b.last_error for b in statuses} == {None}
    assert len(sandbox.calls(tg_id(bots[0]), "deleteWebhook")) == 1


def test_one_members_updates_are_handled_in_order(start_manager, sandbox, make, make_bot):
    bot = make_bot(make.tenant())
    start_manager()
    for n in range(25):
        sandbox.say(tg_id(bot), 42, f"message {n}")
    replies = sandbox.wait_for_reply(tg_id(bot), 42, timeout=15)
    replies = wait_until(lambda: len(sandbox.bot_texts(tg_id(bot), 42)) == 25 and sandbox.bot_texts(tg_id(bot), 42))
    assert replies == [f"echo: message {n}" for n in range(25)]


def test_a_handler_bug_rolls_back_and_the_member_is_told(start_manager, sandbox, make, db, make_bot):
    bot = make_bot(make.tenant())
    start_manager()
    sandbox.say(tg_id(bot), 7, "/boom", language_code="en")
    reply = sandbox.wait_for_reply(tg_id(bot), 7)
    assert reply == [error_text("en", "error.generic")]
    assert fresh(db, AuditLog, action="test.boom") == []
    sandbox.say(tg_id(bot), 7, "/start")
    sandbox.wait_for_reply(tg_id(bot), 7, lambda text: text.startswith("hello"))
    # The reply is sent before the update's transaction commits.
    wait_until(lambda: len(fresh(db, AuditLog, action="test.start")) == 1, message="the /start commit")


def test_an_unreachable_database_gets_temporarily_unavailable(start_manager, sandbox, make, db, make_bot):
    bot = make_bot(make.tenant())
    start_manager()
    with failing_statements(db.engine, lambda sql, params: "audit_logs" in sql):
        sandbox.say(tg_id(bot), 8, "/start")
        reply = sandbox.wait_for_reply(tg_id(bot), 8)
    assert reply == [error_text("en", "error.unavailable")]
    assert error_text("en", "error.unavailable") != error_text("en", "error.generic")
    sandbox.say(tg_id(bot), 8, "/start")
    sandbox.wait_for_reply(tg_id(bot), 8, lambda text: text.startswith("hello"))
    wait_until(lambda: len(fresh(db, AuditLog, action="test.start")) == 1, message="the /start commit")


def test_the_error_reply_falls_back_to_english_without_catalogs():
    assert error_text("en", "error.generic")
    assert set(FALLBACK_TEXTS) == {"error.generic", "error.unavailable"}


def test_a_429_moves_the_reply_to_the_outbox_and_it_arrives_after_retry_after(start_manager, sandbox, make,
                                                                             make_bot, db):
    """No thread sleeps for Telegram: the update commits, the reply waits in the outbox, a worker sends it."""
    bot = make_bot(make.tenant())
    sandbox.post("/sandbox/faults", {"bot_id": tg_id(bot), "method": "sendMessage", "error_code": 429,
                                     "description": "Too Many Requests: retry after 1", "retry_after": 1,
                                     "count": 1})
    start_manager()
    sandbox.say(tg_id(bot), 9, "/start")
    assert sandbox.wait_for_reply(tg_id(bot), 9) == [f"hello from {bot.id}"]
    sends = sandbox.calls(tg_id(bot), "sendMessage")
    assert [c["error_code"] for c in sends] == [429, None]
    assert sends[1]["at"] - sends[0]["at"] >= 0.95
    # The worker records "done" right after the sandbox accepted the send, so a moment after the reply shows.
    eventually(lambda: [r.status for r in fresh(db, OutboxMessage)], ["done"])
    [row] = fresh(db, OutboxMessage)
    assert (row.kind, row.status, row.result["done"]) == ("telegram.calls", "done", 1)
    assert len(fresh(db, AuditLog, action="test.start")) == 1

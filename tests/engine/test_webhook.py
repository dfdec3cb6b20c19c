"""Webhook mode: the sandbox POSTs to the app's /tg/<bot_id> on a real server thread."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.models import AuditLog, OutboxMessage, ProcessedUpdate
from app.services.bots import bot_token
from bots import replies
from bots.manager import DEFAULT_ALLOWED_UPDATES
from tests.engine.conftest import failing_statements
from tests.plugins.sandbox import run_webhook_answer
from tests.waiting import wait_until

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def count(db, model, **where):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


@pytest.fixture(autouse=True)
def user_501_is_known(sandbox):
    """These tests post user 501's updates to the webhook themselves: the sandbox must know 501."""
    sandbox.open_chat(501)


def start_update(update_id, user_id=501, text="/start"):
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


def post_update(app, bot, payload, secret=None):
    """POST an update as Telegram does, and make the Bot API method the webhook answered with, as Telegram does."""
    response = requests.post(f"{app.config['PUBLIC_BASE_URL']}/tg/{bot.id}", json=payload, timeout=10,
                             headers={SECRET_HEADER: bot.webhook_secret if secret is None else secret})
    run_webhook_answer(app.config["TELEGRAM_API_URL"], bot_token(bot), response)
    return response


def test_webhooks_are_registered_for_every_active_bot(live_app, start_manager, sandbox, make, make_bot, db):
    bots = [make_bot(make.tenant()), make_bot(make.tenant())]
    start_manager(BOT_MODE="webhook")
    for bot in bots:
        call = wait_until(lambda: sandbox.calls(bot.telegram_bot_id, "setWebhook"), 5)[0]
        params = call["params"]
        assert params["url"] == f"{live_app.config['PUBLIC_BASE_URL']}/tg/{bot.id}"
        assert params["secret_token"] == bot.webhook_secret
        assert "max_connections" in params
        allowed = params["allowed_updates"]
        assert (json.loads(allowed) if isinstance(allowed, str) else allowed) == DEFAULT_ALLOWED_UPDATES
    wait_until(lambda: count(db, type(bots[0]), status="running") == 2, 5)


def test_a_wrong_or_missing_secret_is_refused(live_app, make, make_bot, db):
    bot = make_bot(make.tenant())
    assert post_update(live_app, bot, start_update(1), secret="not-the-secret").status_code == 403
    response = requests.post(f"{live_app.config['PUBLIC_BASE_URL']}/tg/{bot.id}", json=start_update(2),
                             timeout=10)
    assert response.status_code == 403
    assert requests.post(f"{live_app.config['PUBLIC_BASE_URL']}/tg/999999", json=start_update(3),
                         timeout=10).status_code == 404
    assert count(db, AuditLog) == 0 and count(db, ProcessedUpdate) == 0


def test_a_repeated_update_id_is_processed_once(live_app, sandbox, make, make_bot, db):
    bot = make_bot(make.tenant())
    for _ in range(3):
        assert post_update(live_app, bot, start_update(77)).status_code == 200
    assert count(db, AuditLog, action="test.start") == 1
    assert count(db, ProcessedUpdate, bot_id=bot.id, update_id=77) == 1
    wait_until(lambda: replies.sender_of(live_app).idle(), 10, message="the reply threads are done")
    assert sandbox.bot_texts(bot.telegram_bot_id, 501) == [f"hello from {bot.id}"]


@pytest.mark.postgres  # Postgres writes the marker in the request's first statement (bots.context)
def test_one_update_delivered_on_several_connections_at_once_is_processed_once(live_app, make, make_bot, db):
    """The deliveries that find the first one's marker (uncommitted: they wait for it) drop the update."""
    bot = make_bot(make.tenant())
    url, headers = f"{live_app.config['PUBLIC_BASE_URL']}/tg/{bot.id}", {SECRET_HEADER: bot.webhook_secret}
    together = threading.Barrier(4)

    def deliver(_):
        together.wait(timeout=10)
        return requests.post(url, json=start_update(120), headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(deliver, range(4))) == [200] * 4
    assert count(db, AuditLog, action="test.start") == 1
    assert count(db, ProcessedUpdate, bot_id=bot.id, update_id=120) == 1


def test_one_reply_is_the_webhooks_answer_and_telegram_makes_it(live_app, sandbox, make, make_bot, db):
    """An update with one reply answers it in the response's body (Telegram makes the call): no outbox row,
    no reply thread, and the request does not wait for Telegram's latency."""
    bot = make_bot(make.tenant())
    sandbox.post("/sandbox/latency", {"ms": 1500, "bot_id": bot.telegram_bot_id})
    try:
        response = requests.post(f"{live_app.config['PUBLIC_BASE_URL']}/tg/{bot.id}", json=start_update(5),
                                 timeout=10, headers={SECRET_HEADER: bot.webhook_secret})
        assert response.elapsed.total_seconds() < 1.5
    finally:
        sandbox.post("/sandbox/latency", {"ms": 0})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.json() == {"method": "sendMessage", "chat_id": 501, "text": f"hello from {bot.id}"}
    assert sandbox.bot_texts(bot.telegram_bot_id, 501) == []  # nobody made the call but Telegram
    assert count(db, OutboxMessage) == 0 and replies.sender_of(live_app).idle()
    sandbox.answer_webhook(bot_token(bot), response)
    assert sandbox.bot_texts(bot.telegram_bot_id, 501) == [f"hello from {bot.id}"]


def test_several_replies_are_an_outbox_row_of_the_update_and_the_request_does_not_wait_for_them(
        live_app, sandbox, make, make_bot, db):
    """With 1.5 s of Telegram latency the webhook request still answers at once: the update committed its
    replies as a telegram.calls row, which the process's reply threads then deliver, once, in order
    (one of them in the webhook's answer could overtake the other)."""
    bot = make_bot(make.tenant())
    sandbox.post("/sandbox/latency", {"ms": 1500, "bot_id": bot.telegram_bot_id})
    try:
        started = time.monotonic()
        response = post_update(live_app, bot, start_update(5, text="/twice"))
        answered_after = time.monotonic() - started
        sent = sandbox.wait_for_reply(bot.telegram_bot_id, 501, lambda text: text.startswith("reply 2"), timeout=15)
        replied_after = time.monotonic() - started
    finally:
        sandbox.post("/sandbox/latency", {"ms": 0})
    assert response.status_code == 200 and response.text == "ok"
    assert sandbox.bot_texts(bot.telegram_bot_id, 501) == ["reply 1 of 2", "reply 2 of 2"] and sent
    assert answered_after < replied_after - 1, (answered_after, replied_after)  # answered before the replies left
    wait_until(lambda: replies.sender_of(live_app).idle(), 10, message="the reply threads recorded the send")
    db.session.expire_all()
    [row] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (row.kind, row.key, row.status) == ("telegram.calls", f"replies:{bot.id}:5", "done")
    assert row.payload["reply"] is True and row.result["message_id"]


def test_the_sandbox_delivers_to_the_webhook_and_the_bot_answers(live_app, start_manager, sandbox, make,
                                                                 make_bot, db):
    bot = make_bot(make.tenant())
    start_manager(BOT_MODE="webhook")
    wait_until(lambda: sandbox.calls(bot.telegram_bot_id, "setWebhook"), 5)
    sandbox.say(bot.telegram_bot_id, 600, "/start")
    assert sandbox.wait_for_reply(bot.telegram_bot_id, 600) == [f"hello from {bot.id}"]


def test_a_database_failure_gets_500_and_the_redelivery_is_processed_once(live_app, start_manager, sandbox,
                                                                         make, make_bot, db):
    bot = make_bot(make.tenant())
    start_manager(BOT_MODE="webhook")
    wait_until(lambda: sandbox.calls(bot.telegram_bot_id, "setWebhook"), 5)
    failing = lambda sql, params: "INSERT INTO audit_logs" in sql  # noqa: E731
    with failing_statements(db.engine, failing) as remaining:
        sandbox.say(bot.telegram_bot_id, 700, "/start")
        assert sandbox.wait_for_reply(bot.telegram_bot_id, 700) == [f"hello from {bot.id}"]
    assert remaining == [0]  # the failure did happen, on the first delivery
    webhook_info = sandbox.get("/sandbox/bots")["bots"]
    assert any(b["id"] == bot.telegram_bot_id and b["webhook_url"] for b in webhook_info)
    assert count(db, AuditLog, action="test.start") == 1
    assert count(db, ProcessedUpdate, bot_id=bot.id) == 1
    assert sandbox.bot_texts(bot.telegram_bot_id, 700) == [f"hello from {bot.id}"]  # no error reply either


def test_the_first_delivery_got_500(live_app, sandbox, make, make_bot, db):
    bot = make_bot(make.tenant())
    with failing_statements(db.engine, lambda sql, params: "INSERT INTO audit_logs" in sql):
        assert post_update(live_app, bot, start_update(90)).status_code == 500
    assert count(db, ProcessedUpdate) == 0 and count(db, AuditLog) == 0
    assert post_update(live_app, bot, start_update(90)).status_code == 200
    assert post_update(live_app, bot, start_update(90)).status_code == 200
    assert count(db, AuditLog, action="test.start") == 1


def test_an_update_runs_in_the_requests_own_transaction(live_app, make, make_bot, db):
    """One pool checkout in the request's thread, and the bot row read once (the handlers reuse the route's read);
    the reply threads' own delivery is not the request's."""
    bot = make_bot(make.tenant())
    assert post_update(live_app, bot, start_update(80)).status_code == 200
    statements, checkouts = [], []
    record = lambda conn, cursor, statement, *rest: statements.append((threading.get_ident(), statement))  # noqa: E731
    checkout = lambda *args: checkouts.append(threading.get_ident())  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", record)
    sa.event.listen(db.engine.pool, "checkout", checkout)
    try:
        assert post_update(live_app, bot, start_update(81)).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
        sa.event.remove(db.engine.pool, "checkout", checkout)
    [request_thread] = {thread for thread, sql in statements if "INSERT INTO processed_updates" in sql}
    assert checkouts.count(request_thread) == 1
    in_request = [sql for thread, sql in statements if thread == request_thread]
    assert len([sql for sql in in_request if "FROM bots" in sql]) == 1, "\n".join(in_request)
    assert count(db, ProcessedUpdate, bot_id=bot.id, update_id=81) == 1

"""Live start/stop from the database, revoked tokens, 409 conflicts and crashed loops."""
import pytest
import sqlalchemy as sa

from app.models import Bot, BotStatus
from app.services import bots as bot_service
from app.services import crypto
from bots.polling import CONFLICT_MESSAGE, REVOKED_MESSAGE
from bots.status import StatusReport, write_statuses
from tests.hardening.test_approval_locks import StatementLog
from tests.waiting import wait_until


def bot_row(db, bot_id):
    db.session.rollback()
    return db.session.get(Bot, bot_id)


def answers_start(sandbox, bot, chat_id, timeout=5.0):
    sandbox.say(bot.telegram_bot_id, chat_id, "/start")
    return sandbox.wait_for_reply(bot.telegram_bot_id, chat_id, timeout=timeout)


def test_bots_start_and_stop_within_5_seconds_of_a_database_change(start_manager, sandbox, make, make_bot, db):
    tenant = make.tenant()
    manager = start_manager()
    bot = make_bot(tenant)  # committed while the manager runs: the dashboard's "add a bot"
    answers_start(sandbox, bot, 1, timeout=5)
    wait_until(lambda: bot_row(db, bot.id).status == "running", 5)

    bot_row(db, bot.id).is_active = False
    db.session.commit()
    wait_until(lambda: bot.id not in manager.running_bot_ids() and bot_row(db, bot.id).status == "stopped", 5)
    runner_gone = manager.runner(bot.id) is None
    sandbox.say(bot.telegram_bot_id, 2, "/start")
    assert runner_gone
    # Not answered while disabled; the update stays with Telegram and is answered once re-enabled.
    bot_row(db, bot.id).is_active = True
    db.session.commit()
    sandbox.wait_for_reply(bot.telegram_bot_id, 2, timeout=5)


def test_a_new_token_restarts_the_bot_with_it(start_manager, sandbox, make, make_bot, db):
    bot = make_bot(make.tenant())
    manager = start_manager()
    answers_start(sandbox, bot, 3)
    old_runner = manager.runner(bot.id)
    new_token = f"{bot.telegram_bot_id}:rotated-secret-token"
    sandbox.post("/sandbox/bots", {"token": new_token})  # BotFather issued a new token: the old one is dead
    row = bot_row(db, bot.id)
    row.token_encrypted, row.token_fingerprint = crypto.encrypt(new_token), crypto.sha256_hex(new_token)
    row.config_version += 1
    db.session.commit()
    wait_until(lambda: manager.runner(bot.id) is not old_runner, 5)
    answers_start(sandbox, bot, 4, timeout=5)
    assert bot_service.bot_token(bot_row(db, bot.id)) == new_token
    wait_until(lambda: bot_row(db, bot.id).status == "running", 5)


def test_a_revoked_token_marks_only_that_bot_error_within_10_seconds(start_manager, sandbox, make, make_bot, db):
    tenant = make.tenant()
    doomed, healthy = make_bot(tenant), make_bot(make.tenant())
    start_manager()
    answers_start(sandbox, doomed, 5)
    sandbox.post(f"/sandbox/bots/{doomed.telegram_bot_id}/revoke")
    wait_until(lambda: bot_row(db, doomed.id).status == "error", 10)
    assert bot_row(db, doomed.id).last_error == REVOKED_MESSAGE
    answers_start(sandbox, healthy, 6)
    wait_until(lambda: bot_row(db, healthy.id).status == "running", 5)
    polls = len(sandbox.calls(doomed.telegram_bot_id, "getUpdates"))
    answers_start(sandbox, healthy, 7)
    assert len(sandbox.calls(doomed.telegram_bot_id, "getUpdates")) == polls  # no retry loop on 401


def test_a_409_conflict_shows_on_the_status_and_is_retried(start_manager, sandbox, make, make_bot, db):
    bot = make_bot(make.tenant())
    sandbox.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "getUpdates", "error_code": 409,
                                     "description": "Conflict: terminated by other getUpdates request",
                                     "count": 4})
    start_manager()
    wait_until(lambda: bot_row(db, bot.id).last_error == CONFLICT_MESSAGE, 5)
    assert bot_row(db, bot.id).status == "error"
    wait_until(lambda: bot_row(db, bot.id).status == "running", 10)
    assert bot_row(db, bot.id).last_error is None
    answers_start(sandbox, bot, 8)


class LoopKiller(BaseException):
    """Something no `except Exception` catches, to kill a polling thread."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_polling_loop_is_restarted(start_manager, sandbox, make, make_bot, db):
    bot = make_bot(make.tenant())
    manager = start_manager()
    answers_start(sandbox, bot, 9)
    runner = manager.runner(bot.id)
    dead_loop = runner.loop

    def fatal_fetch():
        raise LoopKiller()
    dead_loop._fetch = fatal_fetch
    wait_until(lambda: not dead_loop.is_alive(), 5)
    wait_until(lambda: runner.restarts == 1 and runner.loop.is_alive(), 5)
    sandbox.say(bot.telegram_bot_id, 10, "/start")
    sandbox.wait_for_reply(bot.telegram_bot_id, 10)
    wait_until(lambda: bot_row(db, bot.id).status == "running", 5)



def test_the_supervisor_records_many_bots_in_one_statement_per_status_and_spares_a_changed_one(app, db, make):
    """A thousand bots beat every 15 s: one UPDATE per (status, error) group in one commit, not one per bot."""
    tenant = make.tenant()
    bots = [make.bot(tenant) for _ in range(6)]
    db.session.commit()
    versions = {b.id: b.config_version for b in bots}
    running, failing, changed = bots[:4], bots[4], bots[5]
    before = changed.status
    changed.config_version += 1  # edited in the dashboard after the supervisor read it
    db.session.commit()
    reports = [StatusReport(b.id, versions[b.id], BotStatus.RUNNING, seen=True) for b in (*running, changed)]
    reports.append(StatusReport(failing.id, versions[failing.id], BotStatus.ERROR, REVOKED_MESSAGE))
    with StatementLog(db.engine) as log:
        assert write_statuses(app, reports)
    assert len([s for s in log.statements if s.startswith("UPDATE bots")]) == 2, log.statements
    rows = {b.id: b for b in db.session.scalars(sa.select(Bot).where(Bot.tenant_id == tenant.id)
                                                 .execution_options(populate_existing=True))}
    assert all(rows[b.id].status == "running" and rows[b.id].last_seen_at is not None for b in running)
    assert (rows[failing.id].status, rows[failing.id].last_error) == ("error", REVOKED_MESSAGE)
    assert (rows[changed.id].status, rows[changed.id].last_seen_at) == (before, None)

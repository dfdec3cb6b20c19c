"""/healthz and `flask status`: database, leader heartbeat, bot counts."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.models import Bot
from app.runtime import heartbeat
from app.services import clock

# The engine's fixtures: a real sandbox and BotManagers pointed at it.
from tests.engine.conftest import (  # noqa: F401
    bot_app,
    make_bot,
    sandbox,
    sandbox_server,
    start_manager,
    wait_until,
)


def _beat(db, age=timedelta(0)):
    with clock.frozen(clock.now() - age):
        heartbeat.beat(clock.now(), components=["scheduler"])
    db.session.commit()


def test_no_leader_is_503_with_the_reason(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == {"ok": True}
    assert response.json["leader"] == {"present": False}


def test_a_fresh_heartbeat_is_200_with_bot_counts(client, db, make):
    tenant = make.tenant()
    running, broken, _stopped = make.bot(tenant), make.bot(tenant), make.bot(tenant)
    running.status, broken.status = "running", "error"
    running.last_seen_at = clock.now()
    db.session.commit()
    _beat(db)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["ok"] and body["leader"]["present"] and body["leader"]["components"] == ["scheduler"]
    assert body["bots"] == {"running": 1, "error": 1, "stopped": 1, "stale": 0}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_stale_heartbeat_means_no_leader(client, db):
    _beat(db, age=heartbeat.STALE_AFTER + timedelta(seconds=5))
    body = client.get("/healthz").json
    assert body["leader"]["present"] is False and body["leader"]["heartbeat_age_seconds"] > 30


def test_inactive_bots_and_bots_of_inactive_tenants_are_not_counted(client, db, make):
    bot, suspended = make.bot(make.tenant()), make.tenant()
    make.bot(suspended)
    db.session.get(Bot, bot.id).is_active = False
    suspended.is_active = False
    db.session.commit()
    assert client.get("/healthz").json["bots"] == {"running": 0, "error": 0, "stopped": 0, "stale": 0}


def test_a_running_bot_nobody_refreshed_for_45_seconds_is_stale(client, db, make):
    tenant = make.tenant()
    fresh, forgotten = make.bot(tenant), make.bot(tenant)
    fresh.status = forgotten.status = "running"
    fresh.last_seen_at, forgotten.last_seen_at = clock.now(), clock.now() - timedelta(seconds=50)
    db.session.commit()
    assert client.get("/healthz").json["bots"] == {"running": 1, "error": 0, "stopped": 0, "stale": 1}


def test_the_engine_s_view_of_a_healthy_and_a_revoked_bot(client, db, make, make_bot, sandbox, start_manager):
    tenant = make.tenant()
    make_bot(tenant)
    revoked = make_bot(tenant)
    sandbox.post(f"/sandbox/bots/{revoked.telegram_bot_id}/revoke")
    start_manager()
    expected = {"running": 1, "error": 1, "stopped": 0, "stale": 0}
    wait_until(lambda: client.get("/healthz").json["bots"] == expected, message=f"bots {expected}")
    db.session.expire_all()
    assert db.session.get(Bot, revoked.id).last_error == "token revoked or invalid"


def test_flask_status_prints_the_same_and_exits_1_when_unhealthy(runner, db):
    result = runner.invoke(args=["status"])
    assert result.exit_code == 1
    assert "UNHEALTHY" in result.output and "leader:   NONE" in result.output

    _beat(db)
    result = runner.invoke(args=["status"])
    assert result.exit_code == 0, result.output
    assert "status:   OK" in result.output and "database: reachable" in result.output
    assert "running scheduler" in result.output
    assert '"ok": true' in runner.invoke(args=["status", "--json"]).output


def test_flask_jobs_run_runs_one_job_and_refuses_unknown_ids(runner, db, make):
    tenant = make.tenant()
    assert runner.invoke(args=["jobs", "run", "daily_reset"]).exit_code == 0
    db.session.expire_all()
    assert tenant.last_daily_reset_day == clock.local_day(tenant.timezone, clock.now())
    result = runner.invoke(args=["jobs", "run", "nope"])
    assert result.exit_code != 0 and "flask jobs list" in result.output
    assert "daily_reset" in runner.invoke(args=["jobs", "list"]).output


def test_heartbeat_keeps_one_row(db):
    _beat(db)
    _beat(db)
    beat = heartbeat.read()
    assert isinstance(datetime.fromisoformat(beat["heartbeat_at"]), datetime) and beat["fresh"]

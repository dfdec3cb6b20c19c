"""Operator commands: `flask status`, `flask jobs list|run`, `flask runtime`."""
from __future__ import annotations

import json
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from app.services import health


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as /healthz.")
@with_appcontext
def status(as_json: bool) -> None:
    """Database, leader and bots, as /healthz sees them; exit code 1 when unhealthy."""
    report = health.check()
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))
    if not report["ok"]:
        raise SystemExit(1)


def format_report(report: dict) -> str:
    database, leader, bots = report["database"], report["leader"], report["bots"]
    lines = [f"status:   {'OK' if report['ok'] else 'UNHEALTHY'}",
             f"database: {'reachable' if database['ok'] else 'UNREACHABLE — ' + database.get('error', '')}"]
    if leader.get("pid"):
        state = "present" if leader["present"] else "STALE (no process is leading)"
        lines.append(f"leader:   {state} — pid {leader['pid']} on {leader['host']}, heartbeat "
                     f"{leader['heartbeat_age_seconds']}s ago, running {', '.join(leader['components']) or 'nothing'}")
    elif database["ok"]:
        lines.append("leader:   NONE (no runtime has ever started: gunicorn workers or `flask runtime`)")
    if bots:
        lines.append("bots:     " + ", ".join(f"{n} {state}" for state, n in bots.items()))
    return "\n".join(lines)


@click.group("jobs")
def jobs() -> None:
    """The scheduled jobs."""


@jobs.command("list")
def list_jobs() -> None:
    """The declared jobs and their triggers."""
    from app.scheduler import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<26} {job.trigger}{'  (also at start)' if job.at_start else ''}")


@jobs.command("run")
@click.argument("job_id")
def run_job(job_id: str) -> None:
    """Run one job once, now, in this process (it is idempotent); its messages are sent before it returns."""
    from app.scheduler import JOBS, run_now
    from app.worker import dispatch

    if job_id not in {job.id for job in JOBS}:
        raise click.BadParameter(f"no job {job_id!r}; see `flask jobs list`", param_hint="JOB_ID")
    app = current_app._get_current_object()
    with dispatch.inline(app):
        run_now(app, job_id)
    click.echo(f"ran {job_id}")


@click.command("runtime")
def runtime() -> None:
    """Run the scheduler and bots in the foreground when this process wins the leader lock."""
    from app.runtime import Runtime

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    rt = Runtime(current_app._get_current_object()).start()
    click.echo("runtime started; it leads when no other process does (Ctrl-C stops it)")
    done.wait()
    rt.stop()


COMMANDS = (status, jobs, runtime)

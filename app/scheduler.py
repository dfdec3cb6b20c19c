"""The declared job list and its wiring to APScheduler.

Every job has a stable id, so registering the list twice replaces rather than duplicates. Each run
happens in its own app context and transaction (one per tenant for tenant jobs), see `app.jobs.runner`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.jobs import (
    backups,
    daily_reset,
    growth,
    housekeeping,
    online_payments,
    paid_chats,
    panels,
    receipts,
    stats,
    subscriptions,
    tickets,
)
from app.jobs.runner import for_each_tenant, run_in_context
from app.services import subscription_counts, visit_counts, xp_counts


@dataclass(frozen=True)
class Job:
    id: str
    work: Callable[[datetime], object]
    trigger: object
    #: Also run once as soon as the scheduler starts (catch-up after downtime).
    at_start: bool = False


def _per_tenant(step) -> Callable[[datetime], object]:
    return partial(for_each_tenant, step)


def _every(**interval) -> IntervalTrigger:
    return IntervalTrigger(timezone="UTC", **interval)


JOBS: tuple[Job, ...] = (
    # A minute tick rather than one cron per time zone: any tenant past its midnight is reset.
    Job("daily_reset", _per_tenant(daily_reset.reset_due_tenant), CronTrigger(second=2, timezone="UTC"),
        at_start=True),
    Job("subscriptions", _per_tenant(subscriptions.expire_and_remind), _every(minutes=5), at_start=True),
    Job("stale_receipts", _per_tenant(receipts.expire_stale_receipts), _every(minutes=5), at_start=True),
    Job("zarinpal_reconcile", _per_tenant(online_payments.reconcile_online_payments), _every(minutes=5),
        at_start=True),
    Job("daily_stats", _per_tenant(stats.snapshot_today), _every(minutes=10), at_start=True),
    # Traffic used, read back from the VPN panels: counters, caps (limited → panel user disabled), drift.
    Job("panel_usage", _per_tenant(panels.read_usage), _every(minutes=10), at_start=True),
    # Paid chats: members seen inside without a right are removed, members with a right and no grant invited.
    Job("chat_reconcile", _per_tenant(paid_chats.reconcile_chats), _every(minutes=10), at_start=True),
    Job("prune_processed_updates", housekeeping.prune_processed_updates, _every(hours=1)),
    # Saturday, the first day of the Iranian week, just after midnight in the default tenant zone.
    Job("weekly_top10", _per_tenant(growth.award_weekly_top10),
        CronTrigger(day_of_week="sat", hour=0, minute=5, timezone="Asia/Tehran")),
    Job("tickets_autoclose", _per_tenant(tickets.close_quiet_tickets), _every(hours=1)),
    # The all-time rank's counts (member_xp_counts): XP awards append delta rows, this folds them.
    Job("xp_counts_compact", _per_tenant(xp_counts.compact_tenant), _every(minutes=5)),
    # The overview's counts of subscriptions (sold per plan and slot, held per status): triggers append delta
    # rows, this folds them.
    Job("subscription_counts_compact", _per_tenant(subscription_counts.compact_tenant), _every(minutes=5)),
    # The daily stats' active members per day (member_visit_counts): first visits append delta rows, this folds them.
    Job("visit_counts_compact", _per_tenant(visit_counts.compact_tenant), _every(minutes=5)),
    # Does nothing unless BACKUP_TARGET is set; retention keeps BACKUP_KEEP_DAILY / _WEEKLY copies.
    Job("backup", backups.scheduled_backup, CronTrigger(hour=2, minute=30, timezone="UTC")),
)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def job(job_id: str) -> Job:
    """The declared job with this id (KeyError if none)."""
    return {j.id: j for j in JOBS}[job_id]


def run_now(app, job_id: str) -> None:
    """Run one declared job once, in the calling thread (CLI, tests)."""
    run_in_context(app, job_id, job(job_id).work)


def build_scheduler(app) -> BackgroundScheduler:
    """A scheduler (not started) with every declared job registered."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    for declared in JOBS:
        register(scheduler, app, declared)
    return scheduler


def register(scheduler, app, declared: Job) -> None:
    """Add one job; a second registration replaces the first."""
    extra = {"next_run_time": datetime.now().astimezone()} if declared.at_start else {}
    scheduler.add_job(run_in_context, declared.trigger, args=(app, declared.id, declared.work),
                      id=declared.id, name=declared.id, replace_existing=True, **JOB_DEFAULTS, **extra)

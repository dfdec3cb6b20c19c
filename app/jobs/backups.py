"""The scheduled backup: one sealed copy a day, old copies pruned, the outcome kept for the platform admin."""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from app.extensions import db
from app.models.types import utcnow
from app.services import backups

log = logging.getLogger(__name__)


def scheduled_backup(now: datetime) -> str:
    """Back up when BACKUP_TARGET is set; a failure is recorded (the platform pages show it) and logged."""
    config = current_app.config
    if not config.get("BACKUP_TARGET"):
        return "not configured"
    started = utcnow()
    try:
        result = backups.backup_now(config, str(db.engine.url.render_as_string(hide_password=False)), now=now)
    except backups.BackupFailed as err:
        backups.record_run(None, err.message, started)
        log.error("backup failed: %s", err.message)
        return "failed"
    backups.record_run(result, None, started)
    log.info("backup %s stored (%s bytes); pruned %s", result.location, result.size_bytes, len(result.pruned))
    return "ok"

"""The leader's heartbeat: a PlatformSetting row every process can read (health checks, `flask status`)."""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from app.extensions import db
from app.models import PlatformSetting
from app.services import clock

KEY = "runtime_leader"
#: A heartbeat older than this means no process is leading.
STALE_AFTER = timedelta(seconds=30)


def beat(started_at: datetime, **details) -> None:
    """Write this process's heartbeat (the caller commits)."""
    value = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": started_at.isoformat(),
             "heartbeat_at": clock.now().isoformat(), **details}
    row = db.session.get(PlatformSetting, KEY)
    if row is None:
        db.session.add(PlatformSetting(key=KEY, value=value))
    else:
        row.value = value


def read(now: datetime | None = None) -> dict | None:
    """The last heartbeat with its age in seconds and whether it is fresh, or None if never written."""
    row = db.session.get(PlatformSetting, KEY, populate_existing=True)
    if row is None or not row.value:
        return None
    value = dict(row.value)
    age = ((now or clock.now()) - datetime.fromisoformat(value["heartbeat_at"])).total_seconds()
    value.update(age_seconds=round(age, 1), fresh=age <= STALE_AFTER.total_seconds())
    return value

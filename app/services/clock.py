"""The current instant, replaceable in tests so jobs can be run at any moment."""
from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models.types import utcnow

_frozen: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now, or the frozen instant inside `frozen()`."""
    return _frozen if _frozen is not None else utcnow()


@contextlib.contextmanager
def frozen(instant: datetime):
    """Make `now()` return `instant` (aware) for the duration of the block."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("freeze the clock with an aware datetime")
    previous, _frozen = _frozen, instant.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


def local_day(tz_name: str, instant: datetime) -> date:
    """The calendar day at `instant` in the time zone `tz_name`."""
    return instant.astimezone(ZoneInfo(tz_name)).date()


def day_bounds(tz_name: str, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the local `day` begins and the next one begins."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def tenant_today(tenant, instant: datetime | None = None) -> date:
    """The tenant's local calendar day at `instant` (default: now)."""
    return local_day(tenant.timezone or "Asia/Tehran", instant or now())

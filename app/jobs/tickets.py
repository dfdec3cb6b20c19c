"""Closing answered tickets whose member stayed quiet for the tenant's `ticket_autoclose_days`."""
from __future__ import annotations

from datetime import datetime

from app.models import Tenant
from app.services import settings, tickets


def close_quiet_tickets(tenant: Tenant, now: datetime) -> None:
    tickets.close_quiet_tickets(tenant, now, settings.get(tenant, "ticket_autoclose_days"))

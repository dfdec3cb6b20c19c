"""The periodic read of VPN panel usage (a job step per tenant; the work is app.services.panels.usage).

The panels are read (HTTP GETs, no outside effect) before anything is written; the writes (usage,
counters, limited subscriptions, their "disable" outbox rows, the drift report) commit together.
"""
from __future__ import annotations

from datetime import datetime

from app.models import Tenant
from app.services.panels import usage


def read_usage(tenant: Tenant, now: datetime) -> None:
    usage.read_tenant_usage(tenant, now)

"""The periodic reconciliation of paid chats: who we saw inside each chat against who should be there."""
from __future__ import annotations

from datetime import datetime

from app.models import Tenant
from app.services import chat_access


def reconcile_chats(tenant: Tenant, now: datetime) -> None:
    chat_access.reconcile(tenant, now)

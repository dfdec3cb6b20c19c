"""Delivering the outbox: claim due rows, call their handlers after commit, record what happened.

- `delivery`: claim (SELECT ... FOR UPDATE SKIP LOCKED on Postgres, the write lock on SQLite), deliver one
  row, mark it done / rescheduled with backoff / dead.
- `dispatch`: what happens to the rows a unit of work committed (hand them to the pool, run them inline
  in a CLI command, or leave them for a worker's next poll).
- `pool`: the in-process worker pool (`make run`, and any runtime when QUEUE_URL is unset).
"""
from __future__ import annotations

import importlib

#: Modules whose import registers outbox handlers (`@outbox.handler`). Add yours here.
HANDLER_MODULES = ("bots.outbound", "bots.notify", "bots.receipt_outbound", "bots.ticket_outbound",
                   "app.services.webhook_delivery", "app.services.panels.provisioning", "bots.service_card",
                   "app.services.broadcasts.pump", "bots.broadcast_outbound", "bots.chat_outbound",
                   "bots.stars_outbound")


def load_handlers() -> None:
    """Import every handler module (idempotent), so any process can deliver every kind."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)

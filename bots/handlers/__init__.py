"""The member and admin conversations: one module per area, each with register(bot)."""
from __future__ import annotations

from bots.handlers import (
    admin,
    chat_member,
    fallback,
    online_payments,
    paid_chats,
    payments,
    plans,
    profile,
    promo,
    referrals,
    service,
    services,
    stars,
    start,
    tickets,
)

#: Order matters: the first handler whose filters match an update takes it; fallback goes last.
MODULES = (paid_chats, stars, start, chat_member, tickets, profile, plans, payments, online_payments, admin, service, services, promo, referrals,
           fallback)


def register_all(tb) -> None:
    """Register every conversation handler on one TeleBot (built with use_class_middlewares=True)."""
    for module in MODULES:
        module.register(tb)

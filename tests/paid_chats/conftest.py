"""Paid-chat fixtures: a tenant with a bot, a channel connected without Telegram, a plan that grants it."""
from __future__ import annotations

import pytest

from app.models import OutboxMessage, PaidChat
from app.services import channels, wallet
from tests.jobs.conftest import run_job  # noqa: F401

CHAT_ID = -1001234567890


@pytest.fixture
def vip(db, make):
    """(tenant, bot, chat, plan): a channel whose bot has its rights, granted by a 30-day plan sold for Stars."""
    tenant = make.tenant()
    wallet.topup_wallet(tenant, 1_000_000, key="seed", actor="system")
    bot = make.bot(tenant)
    chat = PaidChat(tenant_id=tenant.id, bot_id=bot.id, chat_id=CHAT_ID, title="VIP", type="channel",
                    is_admin=True, can_invite=True, can_restrict=True)
    db.session.add(chat)
    plan = make.plan(tenant, name="VIP", price=100_000, period_days=30, stars_price=50)
    channels.set_plan_chats(plan, [chat.id])
    db.session.commit()
    return tenant, bot, chat, plan


def outbox_rows(db, kind):
    import sqlalchemy as sa
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))

"""A member's VPN services as the bot and the member page show them: link, days left, traffic."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Panel, PanelUser, PanelUserStatus, Subscription
from app.services import clock

MAX_LISTED = 10


@dataclass
class Service:
    subscription: Subscription
    panel_user: PanelUser

    @property
    def link(self) -> str | None:
        return self.panel_user.subscription_url

    @property
    def config_links(self) -> list[str]:
        return list(self.panel_user.config_links or [])

    @property
    def ready(self) -> bool:
        return self.panel_user.status in (PanelUserStatus.ACTIVE.value, PanelUserStatus.DISABLED.value) \
            and bool(self.link)

    def days_left(self, now: datetime | None = None) -> int:
        seconds = (self.subscription.ends_at - (now or clock.now())).total_seconds()
        return max(0, math.ceil(seconds / 86400))

    @property
    def used_bytes(self) -> int:
        return self.subscription.traffic_used_bytes

    @property
    def limit_bytes(self) -> int | None:
        return self.subscription.traffic_limit_bytes


def sells_vpn(tenant) -> bool:
    """Whether the tenant has a VPN panel (the bot then offers "My services")."""
    return db.session.scalar(_ANY_PANEL, {"tenant_id": tenant.id}) is not None


#: Built once: the main menu asks on every /start (building the SELECT would cost more than running it).
_ANY_PANEL = sa.select(Panel.id).where(Panel.tenant_id == sa.bindparam("tenant_id")).limit(1)


def services_of(member: Member) -> list[Service]:
    """The member's subscriptions that have a panel user, newest end first."""
    rows = db.session.execute(
        sa.select(Subscription, PanelUser).join(PanelUser, PanelUser.subscription_id == Subscription.id)
        .where(Subscription.tenant_id == member.tenant_id, Subscription.member_id == member.id,
               PanelUser.tenant_id == member.tenant_id)
        .order_by(Subscription.ends_at.desc(), Subscription.id.desc()).limit(MAX_LISTED)).all()
    return [Service(subscription, panel_user) for subscription, panel_user in rows]


def service_of(member: Member, panel_user_id: int) -> Service | None:
    """One of the member's services (None for another member's or tenant's)."""
    return next((s for s in services_of(member) if s.panel_user.id == panel_user_id), None)

"""VPN panels a tenant sells through, which plan uses which panel, and each subscription's panel user."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class PanelKind(str, enum.Enum):
    MARZBAN = "marzban"
    #: Marzban's successor: the same user API with groups instead of proxies/inbounds.
    PASARGUARD = "pasarguard"
    REMNAWAVE = "remnawave"
    XUI = "xui"


class OnCancel(str, enum.Enum):
    """What happens to the panel user of a cancelled or refunded subscription."""

    DELETE = "delete"
    DISABLE = "disable"


class PanelUserStatus(str, enum.Enum):
    #: Not created yet (waiting for the panel or the outbox).
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"
    #: The panel refused it for good (bad plan mapping); the owner must fix and re-provision.
    FAILED = "failed"


class Panel(db.Model):
    """One VPN panel of a tenant; its credentials are encrypted at rest and never rendered."""

    __tablename__ = "panels"
    __table_args__ = (
        one_of("kind", [k.value for k in PanelKind], "panel_kind"),
        one_of("on_cancel", [o.value for o in OnCancel], "panel_on_cancel"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_panels_tenant_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Where the panel's API answers, e.g. https://panel.example.com:8000 (3x-ui: with its web base path).
    base_url: Mapped[str] = mapped_column(sa.String(500))
    #: Fernet-encrypted JSON: {"username", "password"} or {"token"} (Remnawave).
    credentials_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: 3x-ui only: the subscription server's base, e.g. https://host:2096/sub/ (the client's subId is appended).
    subscription_base_url: Mapped[Optional[str]] = mapped_column(sa.String(500))
    on_cancel: Mapped[str] = mapped_column(sa.String(10), default=OnCancel.DISABLE.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_checked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: None after a good check; otherwise what failed, in words.
    last_check_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    #: The usage job's last drift report: {"unknown": [usernames], "missing": [usernames], "at": iso}.
    drift: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    last_usage_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Panel {self.id} {self.kind} tenant={self.tenant_id}>"


class PlanPanel(db.Model):
    """The panel a plan's subscriptions are provisioned on, and what that panel needs for them."""

    __tablename__ = "plan_panels"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    panel_id: Mapped[int] = mapped_column(sa.ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    #: Per kind: Marzban {"proxies": {...}, "inbounds": {...}}, PasarGuard {"group_ids": [...]},
    #: Remnawave {"squads": [uuid, ...]}, 3x-ui {"inbound_id": N, "flow": "..."}.
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    panel: Mapped[Panel] = relationship()


class PanelUser(db.Model):
    """The account a subscription has on its panel: what the member connects with."""

    __tablename__ = "panel_users"
    __table_args__ = (
        one_of("status", [s.value for s in PanelUserStatus], "panel_user_status"),
        sa.UniqueConstraint("panel_id", "username", name="uq_panel_users_panel_username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: One panel user per subscription: a renewal updates it, never adds a second.
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
                                                 unique=True)
    panel_id: Mapped[int] = mapped_column(sa.ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    #: Deterministic (bf<tenant>s<subscription>), so a repeated create finds the user it made before.
    username: Mapped[str] = mapped_column(sa.String(64))
    #: The panel's own id when it has one (Remnawave uuid, 3x-ui client uuid).
    remote_id: Mapped[Optional[str]] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(10), default=PanelUserStatus.PENDING.value)
    subscription_url: Mapped[Optional[str]] = mapped_column(sa.String(1000))
    #: The share links (vless://, vmess://, ...) the panel gives, when it gives them.
    config_links: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: The panel's used-traffic figure at the last usage read; the next read counts only what is new.
    used_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Bumped on every change asked of the panel; names the outbox message of that change.
    version: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    preparing_told_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    ready_told_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    synced_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    panel: Mapped[Panel] = relationship()
    subscription = relationship("Subscription")

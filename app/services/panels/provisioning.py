"""A subscription's panel user follows the subscription, through the outbox.

Whenever a subscription of a plan that sells through a panel changes (granted, extended, limited,
expired, cancelled), `subscription_changed` bumps its PanelUser's version and queues one
"panel.provision" message in the same transaction. The worker's handler (`deliver_provision`) reads
the subscription as it is *then* and makes the panel match it: create or re-enable, new expiry and
limit, disable, or delete. So a repeated or late message is harmless (a create finds the user it made
before), and an older message whose change a newer one covers is skipped.

The member hears at most twice about a new service: "being prepared" if the panel is down at the
first attempt, and "ready" (link + QR) once it exists.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Member,
    OnCancel,
    Panel,
    PanelUser,
    PanelUserStatus,
    PlanPanel,
    Subscription,
    SubscriptionStatus,
)
from app.services import clock, notify, outbox
from app.services.panels import adapter_for
from app.services.panels.base import (
    DesiredUser,
    PanelAuthFailed,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    RemoteUser,
)

log = logging.getLogger(__name__)

KIND = "panel.provision"
RESET_LINK_KIND = "panel.reset_link"
#: The bot-side kind that sends the member their link, config links and QR code (bots/service_card.py).
SERVICE_CARD_KIND = "telegram.service_card"
#: Seconds between tries while a panel is down, and while it refuses our credentials (the owner must act).
RETRY_DOWN_SECONDS = 60
RETRY_AUTH_SECONDS = 600


def username_for(subscription: Subscription) -> str:
    """The panel username of a subscription: stable, so a repeated create finds the same user."""
    return f"bf{subscription.tenant_id}s{subscription.id}"


def subscription_changed(subscription: Subscription) -> PanelUser | None:
    """Queue the panel work this subscription's new state needs (flush only); None if its plan has no panel."""
    mapping = db.session.get(PlanPanel, subscription.plan_id)
    panel_user = panel_user_for(subscription)
    if mapping is None and panel_user is None:
        return None
    if panel_user is None:
        panel_user = PanelUser(tenant_id=subscription.tenant_id, subscription_id=subscription.id,
                               panel_id=mapping.panel_id, username=username_for(subscription),
                               status=PanelUserStatus.PENDING.value, config_links=[], used_bytes=0, version=0)
        db.session.add(panel_user)
        db.session.flush()
    _queue(panel_user, KIND)
    return panel_user


def reprovision(panel_user: PanelUser) -> None:
    """The owner asks to apply the subscription to the panel again (e.g. after fixing the plan mapping)."""
    if panel_user.status == PanelUserStatus.FAILED.value:
        panel_user.status = PanelUserStatus.PENDING.value
    _queue(panel_user, KIND)


def reset_link(panel_user: PanelUser) -> None:
    """Queue a new subscription link for this service; the member is sent the new one."""
    _queue(panel_user, RESET_LINK_KIND)


def panel_user_for(subscription: Subscription) -> PanelUser | None:
    return db.session.scalar(sa.select(PanelUser).where(PanelUser.subscription_id == subscription.id))


def _queue(panel_user: PanelUser, kind: str) -> None:
    # An atomic increment: two transactions changing the same service get two different versions.
    version = db.session.execute(
        sa.update(PanelUser).where(PanelUser.id == panel_user.id).values(version=PanelUser.version + 1)
        .returning(PanelUser.version), execution_options={"synchronize_session": False}).scalar_one()
    db.session.expire(panel_user, ["version"])
    outbox.enqueue(kind, {"panel_user_id": panel_user.id, "version": version}, tenant_id=panel_user.tenant_id,
                   key=f"{kind}:{panel_user.id}:v{version}")


# -- the worker side ---------------------------------------------------------------------------------


@outbox.handler(KIND)
def deliver_provision(message) -> None:
    """Make the panel match the subscription now (runs in a worker, after the change committed)."""
    panel_user = _current(message)
    if panel_user is None:
        return
    _against_panel(panel_user, lambda adapter: apply(panel_user, adapter))


@outbox.handler(RESET_LINK_KIND)
def deliver_reset_link(message) -> None:
    """Ask the panel for a new subscription link and send it to the member."""
    panel_user = _current(message, skip_stale=False)
    if panel_user is None or panel_user.status not in (PanelUserStatus.ACTIVE.value, PanelUserStatus.DISABLED.value):
        return

    def renew(adapter):
        current = adapter.get_user(panel_user.username)
        if current is None:
            raise PanelRejected(f"{panel_user.username} is not on the panel; re-provision it first")
        _record(panel_user, adapter.reset_link(current))
        _send_card(panel_user, "link_changed", f"{message.key}:card")
    _against_panel(panel_user, renew)


def apply(panel_user: PanelUser, adapter) -> None:
    """One convergence step: the panel user as the subscription wants it, or removed."""
    subscription, panel = panel_user.subscription, panel_user.panel
    if _removing(subscription, panel):
        adapter.remove(panel_user.username)
        panel_user.status, panel_user.synced_at, panel_user.last_error = PanelUserStatus.DELETED.value, clock.now(), None
        return
    remote = adapter.ensure(desired_of(panel_user))
    _record(panel_user, remote)
    if panel_user.ready_told_at is None and panel_user.status == PanelUserStatus.ACTIVE.value:
        panel_user.ready_told_at = clock.now()
        _send_card(panel_user, "ready", f"panel-ready:{panel_user.id}")


def desired_of(panel_user: PanelUser) -> DesiredUser:
    """What the panel user should be, read from its subscription and plan mapping now."""
    subscription = panel_user.subscription
    mapping = db.session.get(PlanPanel, subscription.plan_id)
    live = subscription.status == SubscriptionStatus.ACTIVE.value and subscription.ends_at > clock.now()
    return DesiredUser(username=panel_user.username, expire_at=subscription.ends_at,
                       data_limit=subscription.traffic_limit_bytes, enabled=live,
                       options=dict(mapping.options) if mapping and mapping.panel_id == panel_user.panel_id else {})


def _removing(subscription: Subscription, panel: Panel) -> bool:
    return subscription.status == SubscriptionStatus.CANCELLED.value and panel.on_cancel == OnCancel.DELETE.value


def _against_panel(panel_user: PanelUser, work) -> None:
    """Run `work(adapter)`; a down panel retries (telling the member once), a refusal gives up."""
    try:
        work(adapter_for(panel_user.panel))
    except PanelUnavailable as exc:
        _remember_error(panel_user, exc)
        _tell_preparing(panel_user)
        raise outbox.Retry(RETRY_DOWN_SECONDS, f"panel unavailable: {exc}"[:500]) from None
    except PanelAuthFailed as exc:
        _remember_error(panel_user, exc)
        _tell_preparing(panel_user)
        raise outbox.Retry(RETRY_AUTH_SECONDS, f"panel refused the credentials: {exc}"[:500]) from None
    except PanelRejected as exc:
        _remember_error(panel_user, exc)
        if panel_user.status == PanelUserStatus.PENDING.value:
            panel_user.status = PanelUserStatus.FAILED.value
        raise outbox.Permanent(f"panel refused: {exc}"[:500]) from None


def _current(message, skip_stale: bool = True) -> PanelUser | None:
    panel_user = db.session.get(PanelUser, message.payload["panel_user_id"])
    if panel_user is None:
        return None
    if skip_stale and message.payload.get("version", 0) < panel_user.version:
        return None  # a newer change was queued after this one; its message does the work
    return panel_user


def _record(panel_user: PanelUser, remote: RemoteUser) -> None:
    panel_user.status = PanelUserStatus.ACTIVE.value if remote.status in ("active", "on_hold") \
        else PanelUserStatus.DISABLED.value
    panel_user.remote_id = remote.remote_id or panel_user.remote_id
    panel_user.subscription_url = remote.subscription_url or panel_user.subscription_url
    panel_user.config_links = list(remote.links)
    panel_user.synced_at, panel_user.last_error = clock.now(), None
    db.session.flush()


def _remember_error(panel_user: PanelUser, exc: PanelError) -> None:
    panel_user.last_error = str(exc)[:500]
    log.info("panel user %s: %s", panel_user.id, panel_user.last_error)


def _tell_preparing(panel_user: PanelUser) -> None:
    """The first time a new service cannot be made, tell the member it is being prepared (once)."""
    if panel_user.ready_told_at is not None or panel_user.preparing_told_at is not None:
        return
    if panel_user.status != PanelUserStatus.PENDING.value:
        return
    member = db.session.get(Member, panel_user.subscription.member_id)
    panel_user.preparing_told_at = clock.now()
    notify.notify_member(member, "service.preparing", once_key=f"panel-preparing:{panel_user.id}",
                         plan_name=panel_user.subscription.plan.name)


def _send_card(panel_user: PanelUser, reason: str, key: str) -> None:
    outbox.enqueue(SERVICE_CARD_KIND, {"member_id": panel_user.subscription.member_id,
                                       "panel_user_id": panel_user.id, "reason": reason},
                   tenant_id=panel_user.tenant_id, key=key)

"""The lifecycle of a subscription's panel user through the outbox, against the emulators over HTTP."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import OutboxMessage, PanelUser, PanelUserStatus, SubscriptionStatus
from app.services import plans, subscriptions, wallet
from app.services.panels import admin, provisioning, usage
from app.services.panels.provisioning import SERVICE_CARD_KIND
from app.services.subscriptions import GB
from tests.panels.conftest import CREDENTIALS, KINDS, OPTIONS


def vpn_shop(make, panel_sandbox, kind, traffic_gb=1, on_cancel="disable"):
    tenant = make.tenant()
    panel = admin.create_panel(tenant, name=kind, kind=kind, base_url=panel_sandbox.base(kind),
                               subscription_base_url="https://sub.example/sub/", on_cancel=on_cancel,
                               **CREDENTIALS[kind])
    plan = make.plan(tenant, name="Silver", price=100_000, period_days=30, traffic_gb=traffic_gb)
    admin.map_plan(tenant, plan, panel, OPTIONS[kind])
    return tenant, panel, plan


def buy(db, member, plan, key):
    subscription = plans.purchase_from_balance(member, plan, key=key, actor="test")
    db.session.commit()
    return subscription


def kinds_sent(rows, kind):
    return [r for r in rows if r.kind == kind]


@pytest.mark.parametrize("kind", KINDS)
def test_lifecycle_create_extend_limit_renew_cancel(db, make, panel_sandbox, drain_outbox, kind):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, kind)
    member = make.member(tenant, balance=1_000_000)
    subscription = buy(db, member, plan, "buy-1")
    delivered = drain_outbox()
    panel_user = provisioning.panel_user_for(subscription)
    remote = panel_sandbox.users(kind)[panel_user.username]
    assert panel_user.status == PanelUserStatus.ACTIVE.value and panel_user.subscription_url
    assert remote["data_limit"] == GB and abs(remote["expire"] - subscription.ends_at.timestamp()) < 2
    assert len(kinds_sent(delivered, SERVICE_CARD_KIND)) == 1

    panel_sandbox.usage(kind, panel_user.username, GB + 5)
    usage.read_tenant_usage(tenant, subscription.ends_at - timedelta(days=29))
    db.session.commit()
    assert subscription.status == SubscriptionStatus.LIMITED.value and subscription.traffic_used_bytes == GB + 5
    drain_outbox()
    assert panel_sandbox.users(kind)[panel_user.username]["status"] == "disabled"

    renewed = buy(db, member, plan, "buy-2")  # the same plan again: extends and re-enables
    assert renewed.id == subscription.id and renewed.status == SubscriptionStatus.ACTIVE.value
    drain_outbox()
    remote = panel_sandbox.users(kind)[panel_user.username]
    assert remote["status"] == "active" and remote["data_limit"] == 2 * GB
    assert abs(remote["expire"] - renewed.ends_at.timestamp()) < 2
    assert len(panel_sandbox.users(kind)) == 1

    subscriptions.cancel(renewed)
    db.session.commit()
    drain_outbox()
    assert panel_sandbox.users(kind)[panel_user.username]["status"] == "disabled"


def test_cancel_deletes_when_the_panel_says_delete(db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "marzban", on_cancel="delete")
    subscription = buy(db, make.member(tenant, balance=500_000), plan, "k")
    drain_outbox()
    subscriptions.cancel(subscription)
    db.session.commit()
    drain_outbox()
    assert panel_sandbox.users("marzban") == {}
    assert provisioning.panel_user_for(subscription).status == PanelUserStatus.DELETED.value


def test_expiry_disables_the_panel_user(db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "remnawave")
    subscription = buy(db, make.member(tenant, balance=500_000), plan, "k")
    drain_outbox()
    subscriptions.expire_due(tenant, now=subscription.ends_at + timedelta(seconds=1))
    db.session.commit()
    drain_outbox()
    assert panel_sandbox.users("remnawave")[f"bf{tenant.id}s{subscription.id}"]["status"] == "disabled"


def test_panel_down_at_purchase_creates_later_and_tells_twice_at_most(db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "marzban")
    member = make.member(tenant, balance=500_000)
    panel_sandbox.faults("marzban", down=True)
    subscription = buy(db, member, plan, "k")
    first = drain_outbox()
    again = drain_outbox(ahead=timedelta(seconds=provisioning.RETRY_DOWN_SECONDS + 1))  # still down
    panel_user = provisioning.panel_user_for(subscription)
    assert panel_user.status == PanelUserStatus.PENDING.value and "502" in panel_user.last_error
    assert panel_sandbox.users("marzban") == {}
    panel_sandbox.faults("marzban", down=False)
    later = drain_outbox(ahead=timedelta(seconds=2 * provisioning.RETRY_DOWN_SECONDS + 2))
    assert panel_user.username in panel_sandbox.users("marzban")
    told = [r for r in first + again + later if r.kind in ("telegram.notice", SERVICE_CARD_KIND)]
    notices = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.kind.in_(("telegram.notice", SERVICE_CARD_KIND))).order_by(OutboxMessage.id)).all()
    assert [n.payload.get("text_key", n.kind) for n in notices] == ["service.preparing", SERVICE_CARD_KIND]
    assert len(told) <= 2 and provisioning.panel_user_for(subscription).status == PanelUserStatus.ACTIVE.value


def test_a_refused_mapping_fails_for_good_until_reprovisioned(db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "xui")
    admin.map_plan(tenant, plan, panel, {"inbound_id": 99})  # no such inbound
    subscription = buy(db, make.member(tenant, balance=500_000), plan, "k")
    drain_outbox()
    panel_user = provisioning.panel_user_for(subscription)
    assert panel_user.status == PanelUserStatus.FAILED.value and "record not found" in panel_user.last_error
    admin.map_plan(tenant, plan, panel, {"inbound_id": 1})
    provisioning.reprovision(panel_user)
    db.session.commit()
    drain_outbox()
    assert provisioning.panel_user_for(subscription).status == PanelUserStatus.ACTIVE.value


def test_a_plan_without_panel_provisions_nothing(db, make, drain_outbox):
    tenant = make.tenant()
    buy(db, make.member(tenant, balance=500_000), make.plan(tenant), "k")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PanelUser)) == 0


def test_usage_counts_into_the_tenant_counters_and_reports_drift(db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "marzban", traffic_gb=10)
    subscription = buy(db, make.member(tenant, balance=500_000), plan, "k")
    drain_outbox()
    panel_sandbox.control("marzban", "seed", {"count": 2, "prefix": "stranger"})
    name = provisioning.panel_user_for(subscription).username
    panel_sandbox.usage("marzban", name, 3 * GB)
    usage.read_tenant_usage(tenant, subscription.starts_at)
    panel_sandbox.usage("marzban", name, 4 * GB)
    usage.read_tenant_usage(tenant, subscription.starts_at)
    db.session.commit()
    assert subscription.traffic_used_bytes == 4 * GB and tenant.traffic_consumed_bytes == 4 * GB
    assert wallet.wallet_stats(tenant)["days"][-1]["consumed_bytes"] == 4 * GB
    assert panel.drift["unknown"] == ["stranger0", "stranger1"] and panel.drift["missing_count"] == 0


@pytest.mark.postgres
def test_concurrent_renewals_create_one_panel_user(app, db, make, panel_sandbox, drain_outbox):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "marzban")
    member = make.member(tenant, balance=5_000_000)
    member_id, plan_id = member.id, plan.id
    barrier, errors = threading.Barrier(6), []

    def renew(i):
        with app.app_context():
            from app.extensions import db as tdb
            from app.models import Member, Plan
            barrier.wait()
            try:
                plans.purchase_from_balance(tdb.session.get(Member, member_id), tdb.session.get(Plan, plan_id),
                                            key=f"race-{i}", actor="test")
                tdb.session.commit()
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                tdb.session.remove()

    threads = [threading.Thread(target=renew, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    drain_outbox()
    rows = db.session.scalars(sa.select(PanelUser)).all()
    assert len(rows) == 1 and list(panel_sandbox.users("marzban")) == [rows[0].username]
    subscription = rows[0].subscription
    remote = panel_sandbox.users("marzban")[rows[0].username]
    assert remote["data_limit"] == 6 * GB and abs(remote["expire"] - subscription.ends_at.timestamp()) < 2
    assert (subscription.ends_at - subscription.starts_at).days == 180


@pytest.mark.parametrize("kind", ["marzban", "xui"])
def test_reset_link_renews_it_on_the_panel_and_sends_the_new_card(db, make, panel_sandbox, drain_outbox, kind):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, kind)
    subscription = buy(db, make.member(tenant, balance=500_000), plan, "k")
    drain_outbox()
    panel_user = provisioning.panel_user_for(subscription)
    old_link = panel_user.subscription_url
    provisioning.reset_link(panel_user)
    db.session.commit()
    delivered = drain_outbox()
    panel_user = provisioning.panel_user_for(subscription)
    assert panel_user.subscription_url and panel_user.subscription_url != old_link
    cards = kinds_sent(delivered, SERVICE_CARD_KIND)
    assert [c.payload["reason"] for c in cards] == ["link_changed"]

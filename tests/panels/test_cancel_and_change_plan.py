"""An owner cancels a member's subscription (with or without a refund) or moves it to another plan; the panel follows."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.models import LedgerEntry, Member, PanelUserStatus, Subscription, SubscriptionStatus
from app.services import member_admin
from app.services.errors import NotFound, ValidationFailed
from app.services.panels import admin, provisioning
from app.services.subscriptions import GB
from tests.helpers import csrf_token
from tests.panels.conftest import CREDENTIALS, OPTIONS
from tests.panels.test_provisioning import buy, vpn_shop

NOTICE = "telegram.notice"


def notices(outbox_rows):
    return [r.payload["text_key"] for r in outbox_rows(NOTICE)]


def refunds(db, member):
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.member_id == member.id,
                                                                 LedgerEntry.kind == "refund")))


def test_cancel_with_a_refund_credits_once_tells_the_member_and_deletes_the_panel_user(
        db, make, panel_sandbox, drain_outbox, outbox_rows):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "marzban", on_cancel="delete")
    member = make.member(tenant, balance=100_000)
    subscription = buy(db, member, plan, "buy")
    drain_outbox()
    assert len(panel_sandbox.users("marzban")) == 1
    owner = make.account()
    for _ in range(2):  # a double submit of the same form
        member_admin.cancel_subscription(member, subscription, owner, refund=60_000, reason="Changed my mind",
                                         request_id="form-1")
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.CANCELLED.value
    assert db.session.get(Member, member.id).balance == 60_000
    [refund] = refunds(db, member)
    assert (refund.amount, refund.ref_type, refund.ref_id, refund.note) == (60_000, "subscription", subscription.id,
                                                                            "Changed my mind")
    assert notices(outbox_rows).count("subscription_cancelled_refunded") == 1
    drain_outbox()
    assert panel_sandbox.users("marzban") == {}
    assert provisioning.panel_user_for(subscription).status == PanelUserStatus.DELETED.value


def test_cancel_without_a_refund_disables_the_panel_user(db, make, panel_sandbox, drain_outbox, outbox_rows):
    tenant, panel, plan = vpn_shop(make, panel_sandbox, "xui", on_cancel="disable")
    member = make.member(tenant, balance=100_000)
    subscription = buy(db, member, plan, "buy")
    drain_outbox()
    member_admin.cancel_subscription(member, subscription, make.account(), refund=0, reason="Abuse", request_id="r")
    db.session.commit()
    drain_outbox()
    assert [u["status"] for u in panel_sandbox.users("xui").values()] == ["disabled"]
    assert refunds(db, member) == [] and "subscription_cancelled" in notices(outbox_rows)


@pytest.mark.parametrize("refund,reason", [(100_001, "too much"), (-1, "negative"), (10, "   "), (10, "x" * 301)])
def test_a_refused_cancel_changes_nothing(db, make, refund, reason, outbox_rows):
    tenant = make.tenant()
    plan = make.plan(tenant, price=100_000)
    member = make.member(tenant, balance=100_000)
    subscription = buy(db, member, plan, "buy")
    before = len(outbox_rows())
    with pytest.raises(ValidationFailed):
        member_admin.cancel_subscription(member, subscription, make.account(), refund=refund, reason=reason,
                                         request_id="r")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.ACTIVE.value
    assert db.session.get(Member, member.id).balance == 0 and len(outbox_rows()) == before


def test_another_members_subscription_is_not_found(db, make):
    tenant = make.tenant()
    plan = make.plan(tenant, price=1000)
    subscription = buy(db, make.member(tenant, balance=1000), plan, "buy")
    other = make.member(tenant)
    with pytest.raises(NotFound):
        member_admin.cancel_subscription(other, subscription, make.account(), refund=0, reason="x", request_id="r")
    with pytest.raises(NotFound):
        member_admin.change_plan(other, subscription, make.plan(tenant), make.account())


def test_change_plan_keeps_the_end_and_updates_the_panel_limit(db, make, panel_sandbox, drain_outbox, outbox_rows):
    tenant, panel, silver = vpn_shop(make, panel_sandbox, "remnawave")
    gold = make.plan(tenant, name="Gold", price=200_000, period_days=30, traffic_gb=5)
    admin.map_plan(tenant, gold, panel, OPTIONS["remnawave"])
    member = make.member(tenant, balance=100_000)
    subscription = buy(db, member, silver, "buy")
    drain_outbox()
    ends_at = subscription.ends_at
    member_admin.change_plan(member, subscription, gold, make.account())
    db.session.commit()
    drain_outbox()
    db.session.expire_all()
    changed = db.session.get(Subscription, subscription.id)
    assert (changed.plan_id, changed.ends_at, changed.traffic_limit_bytes) == (gold.id, ends_at, 5 * GB)
    [remote] = panel_sandbox.users("remnawave").values()
    assert remote["data_limit"] == 5 * GB and remote["status"] == "active"
    assert "subscription_plan_changed" in notices(outbox_rows)
    with pytest.raises(ValidationFailed):
        member_admin.change_plan(member, changed, gold, make.account())  # already on it


def test_change_plan_to_a_smaller_cap_than_used_limits_it(db, make, drain_outbox):
    tenant = make.tenant()
    big, small = make.plan(tenant, traffic_gb=5), make.plan(tenant, traffic_gb=1)
    member = make.member(tenant, balance=big.price)
    subscription = buy(db, member, big, "buy")
    subscription.traffic_used_bytes = 2 * GB
    db.session.commit()
    member_admin.change_plan(member, subscription, small, make.account())
    db.session.commit()
    assert subscription.status == SubscriptionStatus.LIMITED.value


def test_change_plan_refuses_a_plan_on_another_panel(db, make, panel_sandbox):
    tenant, panel, silver = vpn_shop(make, panel_sandbox, "marzban")
    other_panel = admin.create_panel(tenant, name="second", kind="xui", base_url=panel_sandbox.base("xui"),
                                     **CREDENTIALS["xui"])
    elsewhere = make.plan(tenant, name="Elsewhere")
    admin.map_plan(tenant, elsewhere, other_panel, OPTIONS["xui"])
    member = make.member(tenant, balance=silver.price)
    subscription = buy(db, member, silver, "buy")
    with pytest.raises(ValidationFailed, match="another VPN panel"):
        member_admin.change_plan(member, subscription, elsewhere, make.account())


@pytest.mark.postgres
def test_two_owners_cancelling_at_once_refund_once(app, db, make):
    tenant = make.tenant()
    plan = make.plan(tenant, price=50_000)
    member = make.member(tenant, balance=50_000)
    subscription = buy(db, member, plan, "buy")
    ids, owner = (member.id, subscription.id), make.account()
    barrier, errors = threading.Barrier(2), []

    def cancel(request_id):
        with app.app_context():
            try:
                held_member, held = db.session.get(Member, ids[0]), db.session.get(Subscription, ids[1])
                barrier.wait(timeout=10)
                member_admin.cancel_subscription(held_member, held, owner, refund=50_000, reason="dup",
                                                 request_id=request_id)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()
    threads = [threading.Thread(target=cancel, args=(f"form-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert len(refunds(db, member)) == 1 and db.session.get(Member, member.id).balance == 50_000


def test_the_dashboard_cancels_and_changes_plans(db, make, client, auth, drain_outbox):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    silver, gold = make.plan(tenant, name="Silver", price=1000), make.plan(tenant, name="Gold")
    member, other = make.member(tenant, balance=1000), make.member(tenant)
    subscription = buy(db, member, silver, "buy")
    auth.use_language("en")
    auth.login(owner.email)
    token = csrf_token(client.get("/account/password"))
    base = f"/members/{member.id}/subscriptions/{subscription.id}"
    assert b"Cancel the subscription now" in client.get(base).data
    assert client.get(f"/members/{other.id}/subscriptions/{subscription.id}").status_code == 404
    bad = client.post(f"{base}/cancel", data={"csrf_token": token, "refund": "²", "reason": "x"})
    assert bad.status_code == 400 and b"Enter a whole number of Toman" in bad.data
    page = client.post(f"{base}/change-plan", data={"csrf_token": token, "plan_id": gold.id}, follow_redirects=True)
    assert b"Plan changed." in page.data
    page = client.post(f"{base}/cancel", data={"csrf_token": token, "refund": "400", "reason": "sorry",
                                               "request_id": "8d3c1f0e6a7b4c2d9e1f0a3b5c7d9e1f"},
                       follow_redirects=True)
    assert b"Subscription cancelled." in page.data
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.CANCELLED.value
    assert db.session.get(Member, member.id).balance == 400
    assert b"no longer running" in client.get(base).data

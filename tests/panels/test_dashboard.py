"""The panels pages: add, test the connection (its exact failure shown), edit, map a plan, drift, service actions."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import OutboxMessage, Panel, PlanPanel
from app.services.panels import credentials_of


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, **data}, follow_redirects=True)


def test_add_test_edit_and_map_a_plan(db, make, owner_client, panel_sandbox):
    client, tenant, _ = owner_client
    page = post(client, "/panels/new", name="Main", kind="marzban", base_url=panel_sandbox.base("marzban"),
                username="admin", password="admin", on_cancel="disable", is_active="y")
    assert b"Panel Main added" in page.data and b"admin" in page.data
    panel = db.session.scalar(sa.select(Panel))
    assert b"never tested" in page.data

    assert b"Connection works" in post(client, f"/panels/{panel.id}/test").data
    post(client, f"/panels/{panel.id}/edit", name="Main", base_url=panel.base_url, username="admin",
         password="wrong", on_cancel="delete", is_active="y")
    failed = post(client, f"/panels/{panel.id}/test").get_data(as_text=True)
    assert "Connection failed: the panel refused the admin username or password" in failed
    db.session.expire_all()
    assert credentials_of(panel)["password"] == "wrong" and panel.on_cancel == "delete"
    assert "wrong" not in client.get(f"/panels/{panel.id}/edit").get_data(as_text=True)

    plan = make.plan(tenant, name="Silver")
    bad = post(client, f"/panels/plans/{plan.id}", panel_id=panel.id, proxies="{not json")
    assert b"This is not valid JSON." in bad.data
    post(client, f"/panels/plans/{plan.id}", panel_id=panel.id, proxies='{"vless": {}}')
    assert db.session.get(PlanPanel, plan.id).options["proxies"] == {"vless": {}}
    assert b"Silver" in client.get("/panels/").data


def test_bad_address_is_refused_on_the_form(db, owner_client):
    client, tenant, _ = owner_client
    page = post(client, "/panels/new", name="Main", kind="xui", base_url="panel.example.com", username="a",
                password="b", on_cancel="disable")
    assert b"must be an http(s) URL" in page.data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Panel)) == 0


def test_member_page_shows_the_service_and_queues_reset_and_reprovision(db, make, owner_client, panel_sandbox):
    from tests.dashboard_world import vpn_service
    client, tenant, _ = owner_client
    member, plan = make.member(tenant), make.plan(tenant)
    panel, panel_user = vpn_service(db, tenant, member, plan)
    db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "https://sub.example/sub/abc" in page and panel_user.username in page
    post(client, f"/panels/services/{panel_user.id}/reset-link")
    post(client, f"/panels/services/{panel_user.id}/reprovision")
    kinds = db.session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["panel.reset_link", "panel.provision"]

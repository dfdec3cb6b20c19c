"""Panels as the owner manages them: encrypted credentials, a connection test that says what failed, plan mapping."""
from __future__ import annotations

import pytest

from app.models import Panel
from app.services.errors import NotFound, ValidationFailed
from app.services.panels import admin, credentials_of


def marzban(tenant, panel_sandbox, **fields):
    values = dict(name="Main", kind="marzban", base_url=panel_sandbox.base("marzban"), username="admin",
                  password="admin")
    values.update(fields)
    return admin.create_panel(tenant, **values)


def test_credentials_are_encrypted_and_only_the_username_is_shown(db, make, panel_sandbox):
    tenant = make.tenant()
    panel = marzban(tenant, panel_sandbox, password="s3cret-pass")
    db.session.commit()
    assert b"s3cret-pass" not in bytes(panel.credentials_encrypted)
    assert credentials_of(panel)["password"] == "s3cret-pass"
    assert admin.credential_hint(panel) == "admin"
    admin.update_panel(panel, name="Main", base_url=panel.base_url)  # empty fields keep the secret
    assert credentials_of(panel) == {"username": "admin", "password": "s3cret-pass"}


@pytest.mark.parametrize("fields, message", [
    ({"kind": "openvpn"}, "Unknown panel type"),
    ({"base_url": "ftp://panel"}, "http"),
    ({"password": ""}, "username and password"),
    ({"kind": "remnawave", "token": ""}, "API token"),
    ({"name": ""}, "name"),
])
def test_bad_input_is_refused_with_a_reason(db, make, panel_sandbox, fields, message):
    tenant = make.tenant()
    with pytest.raises(ValidationFailed, match=message):
        marzban(tenant, panel_sandbox, **fields)


def test_connection_test_says_exactly_what_failed(db, make, panel_sandbox):
    tenant = make.tenant()
    panel = marzban(tenant, panel_sandbox)
    assert admin.test_connection(panel) is None and panel.last_checked_at is not None
    admin.update_panel(panel, name="Main", base_url=panel.base_url, password="wrong")
    assert "refused the admin username or password" in admin.test_connection(panel)
    admin.update_panel(panel, name="Main", base_url="http://127.0.0.1:9", password="admin")
    assert "cannot connect to http://127.0.0.1:9" in admin.test_connection(panel)
    admin.update_panel(panel, name="Main", base_url=panel_sandbox.base("marzban"))
    panel_sandbox.faults("marzban", down=True)
    assert "502" in admin.test_connection(panel)
    assert panel.last_check_error and "502" in panel.last_check_error


def test_plan_mapping_checks_what_each_panel_needs(db, make, panel_sandbox):
    tenant = make.tenant()
    plan = make.plan(tenant, traffic_gb=50)
    xui = admin.create_panel(tenant, name="X", kind="xui", base_url=panel_sandbox.base("xui"), username="admin",
                             password="admin")
    with pytest.raises(ValidationFailed, match="inbound id"):
        admin.map_plan(tenant, plan, xui, {})
    mapping = admin.map_plan(tenant, plan, xui, {"inbound_id": "1"})
    assert mapping.options == {"inbound_id": 1, "flow": ""}
    wave = admin.create_panel(tenant, name="R", kind="remnawave", base_url=panel_sandbox.base("remnawave"),
                              token="t")
    with pytest.raises(ValidationFailed, match="UUID"):
        admin.map_plan(tenant, plan, wave, {"squads": ["nope"]})
    assert admin.map_plan(tenant, plan, None) is None
    assert admin.mappings_of(tenant) == {}


def test_another_tenants_panel_is_not_found(db, make, panel_sandbox):
    mine, theirs = make.tenant(), make.tenant()
    panel = marzban(theirs, panel_sandbox)
    db.session.commit()
    with pytest.raises(NotFound):
        admin.get_panel(mine, panel.id)
    with pytest.raises(NotFound):
        admin.map_plan(mine, make.plan(mine), panel, {})
    assert db.session.get(Panel, panel.id).tenant_id == theirs.id

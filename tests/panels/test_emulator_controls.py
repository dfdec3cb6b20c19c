"""The panel emulators' control API: faults, usage, seed, reset, and clear refusals of bad requests."""
from __future__ import annotations

import requests


def test_controls_refuse_bad_requests_clearly(panel_sandbox):
    url = panel_sandbox.url
    assert requests.post(f"{url}/sandbox/panels/openvpn/faults", json={}, timeout=5).status_code == 404
    assert requests.post(f"{url}/sandbox/panels/marzban/nope", json={}, timeout=5).status_code == 404
    assert requests.post(f"{url}/sandbox/panels/marzban/faults", data="[1]", timeout=5).status_code == 400
    bad_seed = requests.post(f"{url}/sandbox/panels/marzban/seed", json={"count": 0}, timeout=5)
    assert bad_seed.status_code == 400 and "count" in bad_seed.json()["description"]
    assert requests.post(f"{url}/sandbox/panels/xui/usage", json={"username": "ghost", "used_bytes": 1},
                         timeout=5).status_code == 404
    assert requests.get(f"{url}/panels/openvpn/api/users", timeout=5).status_code == 404


def test_faults_are_reported_and_reset_clears_them(panel_sandbox):
    assert panel_sandbox.faults("remnawave", slow_ms=5, unauthorized=True) == \
        {"down": False, "unauthorized": True, "slow_ms": 5}
    assert requests.get(panel_sandbox.base("remnawave") + "/api/users", timeout=5).status_code == 401
    panel_sandbox.control("remnawave", "seed", {"count": 3, "prefix": "s"})
    assert len(panel_sandbox.users("remnawave")) == 3
    panel_sandbox.control("remnawave", "reset", {})
    assert panel_sandbox.users("remnawave") == {}
    assert panel_sandbox.faults("remnawave") == {"down": False, "unauthorized": False, "slow_ms": 0}


def test_xui_hides_its_api_without_a_session(panel_sandbox):
    assert requests.get(panel_sandbox.base("xui") + "/panel/api/inbounds/list", timeout=5).status_code == 404
    session = requests.Session()
    assert session.post(panel_sandbox.base("xui") + "/login", data={"username": "admin", "password": "x"},
                        timeout=5).json()["success"] is False
    session.post(panel_sandbox.base("xui") + "/login", data={"username": "admin", "password": "admin"}, timeout=5)
    inbounds = session.get(panel_sandbox.base("xui") + "/panel/api/inbounds/list", timeout=5).json()["obj"]
    assert [i["id"] for i in inbounds] == [1, 2]

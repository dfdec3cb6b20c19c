"""Each adapter against its panel's emulator over real HTTP: the calls provisioning and usage need."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.services.panels import ADAPTERS
from app.services.panels.base import DesiredUser, PanelAuthFailed, PanelRejected, PanelUnavailable
from tests.panels.conftest import CREDENTIALS, KINDS, OPTIONS

GB = 1024 ** 3


def adapter(panel_sandbox, kind, **credentials):
    return ADAPTERS[kind](panel_sandbox.base(kind), {**CREDENTIALS[kind], **credentials},
                          subscription_base_url="https://sub.example/sub/")


def desired(kind, name="bf1s1", days=30, gb=50, enabled=True):
    expire = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return DesiredUser(username=name, expire_at=expire, data_limit=gb * GB if gb else None, enabled=enabled,
                       options=OPTIONS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_create_read_update_disable_delete(panel_sandbox, kind):
    panel = adapter(panel_sandbox, kind)
    assert "logged in" in panel.check() or "token accepted" in panel.check()
    wanted = desired(kind)
    created = panel.ensure(wanted)
    assert created.username == "bf1s1" and created.status == "active"
    assert created.subscription_url
    seen = panel_sandbox.users(kind)["bf1s1"]
    assert seen["data_limit"] == 50 * GB and abs(seen["expire"] - wanted.expire_at.timestamp()) < 2

    longer = desired(kind, days=60, gb=100)
    panel.ensure(longer)
    seen = panel_sandbox.users(kind)["bf1s1"]
    assert seen["data_limit"] == 100 * GB and abs(seen["expire"] - longer.expire_at.timestamp()) < 2

    assert panel.ensure(desired(kind, days=60, gb=100, enabled=False)).status == "disabled"
    assert panel_sandbox.users(kind)["bf1s1"]["status"] == "disabled"
    assert panel.ensure(longer).status == "active"
    panel.remove("bf1s1")
    assert "bf1s1" not in panel_sandbox.users(kind)
    panel.remove("bf1s1")  # already gone: nothing to do


@pytest.mark.parametrize("kind", KINDS)
def test_a_repeated_create_finds_the_user_it_made(panel_sandbox, kind):
    panel = adapter(panel_sandbox, kind)
    first = panel.ensure(desired(kind))
    with pytest.raises(PanelRejected):
        panel.create_user(desired(kind))
    again = panel.ensure(desired(kind))
    assert again.subscription_url == first.subscription_url
    assert list(panel_sandbox.users(kind)) == ["bf1s1"]


@pytest.mark.parametrize("kind", KINDS)
def test_usage_and_limit_are_read_back(panel_sandbox, kind):
    panel = adapter(panel_sandbox, kind)
    panel.ensure(desired(kind, gb=1))
    panel_sandbox.usage(kind, "bf1s1", 2 * GB)
    user = panel.get_user("bf1s1")
    assert user.used_bytes == 2 * GB and user.status == "limited"
    assert {u.username: u.used_bytes for u in panel.iter_users()} == {"bf1s1": 2 * GB}


@pytest.mark.parametrize("kind", KINDS)
def test_reset_link_gives_a_new_link(panel_sandbox, kind):
    panel = adapter(panel_sandbox, kind)
    before = panel.ensure(desired(kind))
    after = panel.reset_link(before)
    assert after.subscription_url and after.subscription_url != before.subscription_url
    assert panel.get_user("bf1s1").subscription_url == after.subscription_url


@pytest.mark.parametrize("kind", KINDS)
def test_faults_say_what_failed(panel_sandbox, kind):
    wrong = {"token": "nope"} if kind == "remnawave" else {"password": "wrong"}
    with pytest.raises(PanelAuthFailed, match="refused"):
        adapter(panel_sandbox, kind, **wrong).check()
    panel_sandbox.faults(kind, down=True)
    with pytest.raises(PanelUnavailable, match="502"):
        adapter(panel_sandbox, kind).check()
    panel_sandbox.faults(kind, down=False, unauthorized=True)
    with pytest.raises((PanelAuthFailed, PanelRejected), match="refused|401"):
        adapter(panel_sandbox, kind).check()


def test_an_address_where_nothing_answers_is_unavailable():
    panel = ADAPTERS["marzban"]("http://127.0.0.1:9", CREDENTIALS["marzban"])
    with pytest.raises(PanelUnavailable, match="cannot connect"):
        panel.check()


@pytest.mark.parametrize("kind", KINDS)
def test_paging_reads_every_user(panel_sandbox, kind):
    panel_sandbox.control(kind, "seed", {"count": 2500, "prefix": "seed", "used_bytes": 7})
    panel = adapter(panel_sandbox, kind)
    users = list(panel.iter_users())
    assert len(users) == 2500 and {u.used_bytes for u in users} == {7}

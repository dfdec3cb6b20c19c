"""The acceptance journey per panel type, through the bot in the sandbox and the dashboard:
buy → panel user with the right expiry and limit → link + QR in the chat → usage on the member page and
the wallet chart → at the cap limited and disabled → renewal re-enables."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import SubscriptionStatus
from app.services import clock, wallet
from app.services.panels import admin, provisioning
from app.services.subscriptions import GB
from bots.i18n import t
from tests.panels.conftest import CREDENTIALS, KINDS, OPTIONS, PanelSandbox


@pytest.fixture
def vpn(db, make, fleet, shop):
    """The shop with a plan sold through one panel of the sandbox; returns a builder per kind."""
    tenant, bot = shop

    def build(kind):
        panel = admin.create_panel(tenant, name=kind, kind=kind, base_url=f"{fleet.url}/panels/{kind}",
                                   subscription_base_url=f"{fleet.url}/panels/xui/sub/", **CREDENTIALS[kind])
        plan = make.plan(tenant, name="Silver", price=100_000, period_days=30, traffic_gb=1)
        admin.map_plan(tenant, plan, panel, OPTIONS[kind])
        db.session.commit()
        return tenant, bot, plan
    return build


def buys(sara, plan):
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"pb:{plan.id}")


@pytest.mark.parametrize("kind", KINDS)
def test_vpn_journey(db, make, fleet, vpn, drain_outbox, run_job, auth, client, kind):
    tenant, bot, plan = vpn(kind)
    panels = PanelSandbox(fleet.url)
    member = make.member(tenant, balance=300_000, language_code="en")
    sara = fleet.user(bot, user_id=member.telegram_id, language_code="en")
    sara.says("/start")
    buys(sara, plan)
    drain_outbox()

    subscription = provisioning.panel_user_for(member_subscription(db, member)).subscription
    panel_user = provisioning.panel_user_for(subscription)
    remote = panels.users(kind)[panel_user.username]
    assert remote["data_limit"] == GB and abs(remote["expire"] - subscription.ends_at.timestamp()) < 2
    card = sara.last()
    assert card["photo"] and panel_user.subscription_url in card["caption"]
    assert t("en", "service.ready") in card["caption"]

    panels.usage(kind, panel_user.username, 400 * 1024 ** 2)
    run_job("panel_usage", at=clock.now())
    assert subscription_row(db, subscription).traffic_used_bytes == 400 * 1024 ** 2
    assert wallet.wallet_stats(tenant)["days"][-1]["consumed_bytes"] == 400 * 1024 ** 2
    auth.login(tenant_owner_email(tenant))
    auth.use_language("en")
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert panel_user.subscription_url in page and "0.4 GB" in page

    panels.usage(kind, panel_user.username, GB + 1)
    run_job("panel_usage", at=clock.now())
    assert subscription_row(db, subscription).status == SubscriptionStatus.LIMITED.value
    drain_outbox()
    assert panels.users(kind)[panel_user.username]["status"] == "disabled"

    sara.says("/start")  # a new menu message: a purchase is keyed by the message its button is on
    buys(sara, plan)  # renewal
    drain_outbox()
    assert subscription_row(db, subscription).status == SubscriptionStatus.ACTIVE.value
    remote = panels.users(kind)[panel_user.username]
    assert remote["status"] == "active" and remote["data_limit"] == 2 * GB
    assert len(panels.users(kind)) == 1

    sara.presses("m:svc", message=sara.last())
    screen = sara.last_text()
    assert panel_user.subscription_url in screen and t("en", "services.title") in screen
    sara.presses(f"svc:qr:{panel_user.id}")
    assert sara.last()["photo"]


def member_subscription(db, member):
    from app.services.subscriptions import subscriptions_of
    db.session.expire_all()
    return subscriptions_of(member)[0]


def subscription_row(db, subscription):
    db.session.expire_all()
    return db.session.get(type(subscription), subscription.id)


def tenant_owner_email(tenant):
    return tenant.memberships[0].account.email


def test_panel_down_at_purchase_member_is_told_twice_at_most(db, make, fleet, vpn, drain_outbox):
    tenant, bot, plan = vpn("marzban")
    panels = PanelSandbox(fleet.url)
    member = make.member(tenant, balance=300_000, language_code="en")
    sara = fleet.user(bot, user_id=member.telegram_id, language_code="en")
    sara.says("/start")
    before = len(sara.bot_messages())  # buying edits the menu message; anything new is a notice
    panels.faults("marzban", down=True)
    buys(sara, plan)
    drain_outbox()
    drain_outbox(ahead=timedelta(seconds=provisioning.RETRY_DOWN_SECONDS + 1))  # still down: nothing new
    told = sara.bot_messages()[before:]
    assert [m["text"] for m in told] == [t("en", "service.preparing", plan_name="Silver")]
    assert panels.users("marzban") == {}

    panels.faults("marzban", down=False)
    drain_outbox(ahead=timedelta(seconds=3 * provisioning.RETRY_DOWN_SECONDS))
    drain_outbox(ahead=timedelta(seconds=6 * provisioning.RETRY_DOWN_SECONDS))  # nothing more to say
    told = sara.bot_messages()[before:]
    assert len(told) == 2 and told[1]["photo"] and t("en", "service.ready") in told[1]["caption"]
    assert len(panels.users("marzban")) == 1

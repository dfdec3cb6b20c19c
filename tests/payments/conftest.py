"""Payment fixtures: the sandbox (Telegram + Zarinpal) on a real port, the app pointed at it."""
from __future__ import annotations

import pytest

from app.services.payments import online
from tests.payments.gateway import MERCHANT, PLATFORM_MERCHANT, Gateway


@pytest.fixture
def gateway(app, sandbox_server):  # noqa: F811
    """The app's ZARINPAL_API_URL at the test's sandbox, the platform merchant set; restored afterwards."""
    keys = ("ZARINPAL_API_URL", "PLATFORM_ZARINPAL_MERCHANT_ID", "PUBLIC_BASE_URL")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(ZARINPAL_API_URL=sandbox_server.url, PLATFORM_ZARINPAL_MERCHANT_ID=PLATFORM_MERCHANT,
                      PUBLIC_BASE_URL="http://botfleet.test")
    client = Gateway(sandbox_server.url)
    yield client
    client.http.close()
    app.config.update(saved)


@pytest.fixture
def zarinpal_shop(db, make):
    """A tenant with a merchant id, a bot, a member and a plan (the wallet covers sales)."""
    tenant = make.tenant(name="Online shop")
    online.set_merchant_id(tenant, MERCHANT, actor="test")
    tenant.wallet_balance = 0
    bot = make.bot(tenant)
    member = make.member(tenant)
    plan = make.plan(tenant, name="Gold", price=150_000)
    db.session.commit()
    return tenant, bot, member, plan

"""The bot's service texts stay within Telegram's limits without cutting an HTML tag."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from app.models import PanelUser, Subscription, utcnow
from app.services.panels import services as vpn
from bots import i18n
from bots.handlers.services import services_text
from bots.service_views import CAPTION_LIMIT, card_caption, qr_png


def many_services(db, make, count=10, links=6):
    tenant = make.tenant()
    member, plan = make.member(tenant), make.plan(tenant, name="P" * 100, traffic_gb=50)
    for n in range(count):
        sub = Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, status="active",
                           starts_at=utcnow(), ends_at=utcnow() + timedelta(days=n + 1), source="grant",
                           traffic_limit_bytes=50 * 1024 ** 3, traffic_used_bytes=n * 10 ** 9)
        db.session.add(sub)
        db.session.flush()
        db.session.add(PanelUser(tenant_id=tenant.id, subscription_id=sub.id, panel_id=_panel(db, tenant).id,
                                 username=f"u{n}", status="active", used_bytes=0, version=1,
                                 subscription_url="https://sub.example/" + "s" * 150,
                                 config_links=[f"vless://{'x' * 200}#{i}&<b>" for i in range(links)]))
    db.session.commit()
    return tenant, member


def _panel(db, tenant):
    from app.models import Panel
    panel = db.session.query(Panel).filter_by(tenant_id=tenant.id).first()
    if panel is None:
        from app.services.panels import admin
        panel = admin.create_panel(tenant, name="P", kind="marzban", base_url="http://127.0.0.1:9",
                                   username="a", password="b")
    return panel


def test_my_services_fits_one_message_and_escapes_links(db, make):
    tenant, member = many_services(db, make)
    ctx = SimpleNamespace(lang="en", tenant=tenant, t=lambda key, **p: i18n.t("en", key, **p))
    listed = vpn.services_of(member)
    text = services_text(ctx, listed)
    assert len(text) <= 4096 and text.count("<code>") == text.count("</code>") > 0
    assert "&lt;b&gt;" in text or "vless://" not in text


def test_the_ready_card_caption_fits_and_the_qr_is_a_png(db, make):
    tenant, member = many_services(db, make, count=1)
    service = vpn.services_of(member)[0]
    caption = card_caption("fa", service, tenant.timezone, "ready")
    assert len(caption) <= CAPTION_LIMIT and service.link in caption
    assert qr_png(service.link).startswith(b"\x89PNG")

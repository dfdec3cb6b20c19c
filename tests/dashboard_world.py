"""A tenant with one of everything and its staff, for the dashboard access and browser tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.models import Promocode, Role, TenantNotice, WebhookDelivery
from app.services import (
    api_tokens,
    broadcasts,
    invitations,
    platform_cards,
    platform_receipts,
    receipts,
    tickets,
    webhooks,
)
from app.services.payments import bank_matching
from tests.factories import Factories, luhn_complete


def valid_png() -> bytes:
    """A small PNG that passes Pillow's verify() (the upload check refuses PNG below: its IDAT checksum is off)."""
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


#: A 1×1 PNG, enough for the browser to show an image.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201ffa2d0b0340000000049454e44ae426082")


@dataclass
class World:
    tenant: object
    owner: object
    approver: object
    viewer: object
    stranger: object
    admin: object
    ids: dict
    support: object = None


def vpn_service(db, tenant, member, plan):
    """A panel (nothing listens at its address), the plan mapped to it and a member's service on it."""
    from datetime import timedelta

    from app.models import PanelUser, Subscription, utcnow
    from app.services.panels import admin

    panel = admin.create_panel(tenant, name="Panel", kind="marzban", base_url="http://127.0.0.1:9",
                               username="admin", password="admin")
    admin.map_plan(tenant, plan, panel, {})
    subscription = Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, status="active",
                                starts_at=utcnow(), ends_at=utcnow() + timedelta(days=30), source="grant")
    db.session.add(subscription)
    db.session.flush()
    panel_user = PanelUser(tenant_id=tenant.id, subscription_id=subscription.id, panel_id=panel.id,
                           username=f"bf{tenant.id}s{subscription.id}", status="active", config_links=[],
                           subscription_url="https://sub.example/sub/abc", used_bytes=0, version=0)
    db.session.add(panel_user)
    db.session.flush()
    return panel, panel_user


def receipt_with_photo(db, make: Factories, tenant, member, plan=None, instance_path=None, amount=100_000):
    """An invoice opened through the money service and submitted with a stored photo."""
    receipt = receipts.open_invoice(member, plan=plan) if plan else receipts.open_invoice(member, amount=amount)
    photo = f"receipts/{tenant.id}/{receipt.tracking_code}.png"
    path = Path(instance_path) / photo
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG)
    receipts.submit(receipt, telegram_file_id="file-1", photo_path=photo, text="ref 123")
    db.session.commit()
    return receipt


def paid_chat_with_stars(db, tenant, bot, member, panel_user):
    """A connected channel the plan grants, the member's grant in it, and a Stars payment of theirs."""
    from app.models import ChatGrant, PaidChat, StarPayment

    chat = PaidChat(tenant_id=tenant.id, bot_id=bot.id, chat_id=-1001000000001, title="VIP", type="channel",
                    is_admin=True, can_invite=True, can_restrict=True)
    db.session.add(chat)
    db.session.flush()
    subscription = panel_user.subscription
    db.session.add(ChatGrant(tenant_id=tenant.id, member_id=member.id, paid_chat_id=chat.id,
                             subscription_id=subscription.id, state="joined", version=1))
    payment = StarPayment(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id, plan_id=subscription.plan_id,
                          subscription_id=subscription.id, telegram_payment_charge_id=f"world-{tenant.id}", amount=50)
    db.session.add(payment)
    db.session.flush()
    return chat, payment


def build_world(db, make: Factories, instance_path: str) -> World:
    owner = make.account()
    tenant = make.tenant(owner=owner)
    approver, viewer = make.staff(tenant, Role.APPROVER), make.staff(tenant, Role.VIEWER)
    support = make.staff(tenant, Role.SUPPORT)
    stranger = make.account()
    make.tenant(owner=stranger)
    admin = make.account(platform_admin=True)
    bot, plan = make.bot(tenant), make.plan(tenant)
    card = make.card(tenant, number=luhn_complete("603799000000001"))
    member = make.member(tenant, balance=1000)
    receipt = receipt_with_photo(db, make, tenant, member, instance_path=instance_path)
    promo = Promocode(tenant_id=tenant.id, code="WELCOME", kind="xp", value=10)
    db.session.add(promo)
    invitation, secret = invitations.create_invitation(tenant, Role.VIEWER.value, owner)
    notice = TenantNotice(tenant_id=tenant.id, kind="wallet_insufficient", message="Top up the wallet.")
    db.session.add(notice)
    panel, panel_user = vpn_service(db, tenant, member, plan)
    paid_chat, star_payment = paid_chat_with_stars(db, tenant, bot, member, panel_user)
    ticket_photo = f"tickets/{tenant.id}/world.png"
    (Path(instance_path) / ticket_photo).parent.mkdir(parents=True, exist_ok=True)
    (Path(instance_path) / ticket_photo).write_bytes(PNG)
    ticket = tickets.open_ticket(member, bot, text="Where is my link?", photo_path=ticket_photo)
    sms = bank_matching.ingest(tenant, sender="Bank Mellat", source="test",
                               text="بانک ملت\nانتقال:9,990+\nکارت:6037****0001\n1403/09/10-14:25").message
    platform_card = platform_cards.create_card(card_number=luhn_complete("603799100000009"), holder_name="Botfleet",
                                               bank_name="Mellat", actor="test")
    topup = platform_receipts.submit(tenant, owner, amount=500_000, card_id=platform_card.id, image=valid_png(),
                                     text="ref 42", instance_path=instance_path)
    token, _ = api_tokens.create_token(tenant, "panel")
    endpoint, _ = webhooks.create_endpoint(tenant, "http://127.0.0.1:9/hook")
    db.session.commit()
    make.member(tenant)  # member.created: a delivery to the endpoint
    delivery = db.session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    broadcast = broadcasts.compose(tenant, broadcasts.Draft(text="Hello", bot_ids=[bot.id], photo=PNG))
    db.session.commit()
    ids = {"bot_id": bot.id, "plan_id": plan.id, "card_id": card.id, "member_id": member.id,
           "receipt_id": receipt.id, "promocode_id": promo.id, "invitation_id": invitation.id, "notice_id": notice.id,
           "tenant_id": tenant.id, "direction": "up", "secret": secret, "kind": "members", "panel_id": panel.id,
           "panel_user_id": panel_user.id, "ticket_id": ticket.id, "token_id": token.id, "endpoint_id": endpoint.id,
           "delivery_id": delivery.id, "message_id": sms.id, "broadcast_id": broadcast.id, "paid_chat_id": paid_chat.id,
           "star_payment_id": star_payment.id, "subscription_id": panel_user.subscription_id,
           "entry_id": ticket.messages[0].id,
           "topup_id": topup.id, "platform_receipt_id": topup.id, "platform_card_id": platform_card.id}
    return World(tenant, owner, approver, viewer, stranger, admin, ids, support)

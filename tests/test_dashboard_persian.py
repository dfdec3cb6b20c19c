"""Every dashboard page in Persian, with rows in every status: no raw code and no English sentence shows.

The pages come from app.url_map (every GET page an owner and a platform admin can open), so a new page is
checked as soon as it exists. Seeded rows cover every receipt, subscription, promo code and bot status, many
ledger kinds and audit actions; their visible text must show labels, never `pending_review` or `card.update`.
"""
from __future__ import annotations

import functools
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from app.labels import LABELS
from app.models import PaymentCard, Promocode, Subscription, utcnow
from app.services import audit, cards, ledger, member_admin, receipts, settings
from app.services.receipts import Reviewer
from tests.dashboard_world import build_world
from tests.factories import AuthActions, Factories
from tests.test_dashboard_access import ACCESS, LOGIN, OWNER, PLATFORM, READ, RECEIPT_READ, ROUTES, _call

ROOT_DIR = Path(__file__).resolve().parent.parent
SKIP = {"sandbox_chat.messages", "sandbox_chat.photo", "receipts.photo", "members.export", "exports.download",
        "health.healthz", "auth.logout", "broadcasts.progress", "broadcasts.photo", "wallet.topup_photo",
        "platform.receipt_photo"}
#: Latin text that may appear on a Persian page: product and language names, seeded e-mails and codes.
ALLOWED_LATIN = re.compile(r"Botfleet|English|Русский|Zarinpal|API|CSV|XP|VIP|Telegram|@\w+|\S+@\S+|"
                           r"[A-Z0-9]{2,}[-_A-Z0-9]*|https?://\S+|\w+:\d+|Asia/\w+|Test (Bank|Holder|User)|Where is my link")   # seeded data


class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, options, left-to-right data spans or code."""

    HIDDEN = {"script", "style", "option", "code", "title", "textarea"}

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in self.HIDDEN or "ltr" in classes.split():
            self.hidden.append(tag)

    def handle_endtag(self, tag):
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


CODES = {code for group, labels in LABELS.items() if group not in ("audit_key",) for code in labels
         if re.fullmatch(r"[a-z][a-z_.]*[_.][a-z_.]+|[a-z]{4,}", code)}


@functools.cache
def english_msgids() -> tuple[str, ...]:
    """The catalog's translated English sentences (read once: every page's test checks against them)."""
    with (ROOT_DIR / "app/translations/fa/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="fa")
    return tuple(m.id for m in catalog if isinstance(m.id, str) and len(m.id) > 12 and " " in m.id
                 and m.string != m.id and "%" not in m.id)




def seed_every_status(db, make: Factories, world, instance_path):
    tenant, owner = world.tenant, world.owner
    plan = make.plan(tenant, name="طلایی")
    reviewer = Reviewer(account=owner)
    for n, status in enumerate(("approved", "rejected", "pending_review", "expired", "cancelled", "awaiting_receipt")):
        member = make.member(tenant, first_name="سارا", telegram_id=880_000 + n)
        receipt = receipts.open_invoice(member, plan=plan if n % 2 else None, amount=None if n % 2 else 50_000)
        if status == "cancelled":
            receipts.cancel(receipt, member)
        elif status == "expired":
            receipt.expires_at = utcnow() - timedelta(minutes=1)
            receipts.expire_stale(tenant)
        elif status != "awaiting_receipt":
            receipts.submit(receipt, text="پیگیری ۱۲۳۴")
            if status == "approved":
                receipts.approve(receipt, reviewer)
            elif status == "rejected":
                receipts.reject(receipt, reviewer, "مبلغ نادرست")
        db.session.commit()
    member = make.member(tenant, first_name="علی", balance=100_000)
    now = utcnow()
    for status, source in (("active", "grant"), ("limited", "balance"), ("expired", "promocode"),
                           ("cancelled", "receipt")):
        db.session.add(Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, status=status,
                                    starts_at=now - timedelta(days=5), ends_at=now + timedelta(days=5), source=source))
    member_admin.adjust_balance(member, -5_000, "اصلاح", owner, request_id="0" * 32)
    member_admin.grant_plan(member, plan, 3, owner)
    ledger.credit_member(member, 1_000, key="ref", kind="referral_bonus", actor="system")
    card = db.session.scalar(sa.select(PaymentCard).where(PaymentCard.tenant_id == tenant.id))
    cards.update_card(card, actor="account:1", holder_name="رضا احمدی")
    db.session.add_all([Promocode(tenant_id=tenant.id, code="USED", kind="balance", value=10, max_uses=1,
                                  uses_count=1),
                        Promocode(tenant_id=tenant.id, code="OFF", kind="discount_percent", value=10, is_active=False),
                        Promocode(tenant_id=tenant.id, code="OLD", kind="plan_days", value=3,
                                  expires_at=now - timedelta(days=1))])
    settings.update(tenant, {"referral_bonus_toman": 5000}, by=audit.actor_of(owner))
    audit.record(tenant.id, "account:1", "member.ban", "member:1")
    db.session.commit()


@pytest.fixture(scope="module")
def persian_owner(app):
    from app.extensions import db

    with app.app_context():
        built = build_world(db, Factories(db), app.instance_path)
        built.owner.is_platform_admin = True
        db.session.commit()
        seed_every_status(db, Factories(db), built, app.instance_path)
        client = app.test_client()
        AuthActions(client).use_language("fa")
        AuthActions(client).login(built.owner.email)
        yield built, client
        from tests.conftest import _empty_all_tables
        db.session.remove()  # its open transaction would block the TRUNCATE below on Postgres
        _empty_all_tables(db)


PAGES = [r for r in ROUTES if r[2] == "GET" and ACCESS.get(r[0]) in (READ, RECEIPT_READ, OWNER, LOGIN, PLATFORM)
         and r[0] not in SKIP]


@pytest.mark.parametrize("endpoint,rule,method,arguments", PAGES, ids=[r[1] for r in PAGES])
def test_every_page_is_persian(persian_owner, endpoint, rule, method, arguments):
    built, client = persian_owner
    response = _call((built, {"owner": client}, {}), "owner", rule, method, arguments)
    if endpoint == "main.home":                      # the home page sends an owner to the overview
        assert response.status_code == 302
        return
    assert response.status_code == 200, (rule, response.status_code)
    text = ALLOWED_LATIN.sub(" ", visible_text(response.get_data(as_text=True)))
    raw = sorted({word for word in re.findall(r"[a-z][a-z_.]*[a-z]", text) if word in CODES})
    assert not raw, f"{rule} shows raw codes {raw}"
    untranslated = [m for m in english_msgids() if m in text]
    assert not untranslated, f"{rule} shows English: {untranslated}"
    latin = [run for run in re.findall(r"[A-Za-z][A-Za-z'’]+(?:[ ,]+[A-Za-z][A-Za-z'’]+)+", text)]
    assert not latin, f"{rule} shows English words: {latin}"


def test_audit_details_are_readable_and_a_card_update_names_only_what_changed(persian_owner):
    from app.extensions import db
    from app.models import AuditLog

    _, client = persian_owner
    page = client.get("/audit/").get_data(as_text=True)
    assert "\\u06" not in page and "اصلاح" in page            # the adjustment's Persian reason, as text
    [update] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "card.update")).all()
    assert update.data["fields"] == ["holder_name"]


def test_a_used_up_or_expired_promo_code_does_not_show_active(persian_owner):
    _, client = persian_owner
    rows = {code: row for code, row in re.findall(r">(USED|OFF|OLD|WELCOME)</a>(.*?)</tr>",
                                                  client.get("/promocodes/").get_data(as_text=True), re.S)}
    assert "تمام‌شده" in rows["USED"] and "منقضی" in rows["OLD"] and "غیرفعال" in rows["OFF"]
    assert "فعال" in rows["WELCOME"] and "فعال<" not in rows["USED"]

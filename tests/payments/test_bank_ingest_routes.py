"""Deposit SMS through the API (scope bank) and the dashboard paste form; the member is told of an approval."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.models import BankMessage, OutboxMessage
from app.services import api_tokens, receipts, settings
from tests.payments.bank_helpers import mellat_sms

CARD = "6037991234567893"


def shop(db, make, mode="auto"):
    tenant = make.tenant()
    settings.update(tenant, {"bank_sms_mode": mode}, by="test")
    make.card(tenant, number=CARD)
    receipt = receipts.open_invoice(make.member(tenant), amount=150_347)
    db.session.commit()
    return tenant, receipt


def test_the_api_ingests_once_and_approves(app, db, make):
    tenant, receipt = shop(db, make)
    _, bank_token = api_tokens.create_token(tenant, "sms forwarder", ["bank"])
    _, read_token = api_tokens.create_token(tenant, "reader", ["read"])
    db.session.commit()
    client = app.test_client()
    body = {"sender": "Bank Mellat", "text": mellat_sms(150_347, "7893"), "received_at": "2026-11-30T10:00:00Z"}
    refused = client.post("/api/v1/bank-messages", json=body, headers={"Authorization": f"Bearer {read_token}"})
    assert refused.status_code == 403
    first = client.post("/api/v1/bank-messages", json=body, headers={"Authorization": f"Bearer {bank_token}"})
    again = client.post("/api/v1/bank-messages", json=body, headers={"Authorization": f"Bearer {bank_token}"})
    assert first.status_code == 201 and first.json["status"] == "approved" and first.json["receipt_id"] == receipt.id
    assert again.json["duplicate"] == "true" and again.json["id"] == first.json["id"]
    db.session.expire_all()
    assert receipt.status == "approved" and receipt.member.balance == 150_347
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankMessage)) == 1
    assert db.session.scalars(sa.select(OutboxMessage.kind)).all()  # the decision is announced after commit
    bad = client.post("/api/v1/bank-messages", json={"sender": "", "text": "x"},
                      headers={"Authorization": f"Bearer {bank_token}"})
    assert bad.status_code in (400, 422)


def test_the_owner_pastes_several_and_approves_a_suggestion(db, make, client, auth):
    tenant, receipt = shop(db, make, mode="suggest")
    owner = make.staff(tenant, "owner")
    auth.login(owner.email)
    page = client.get("/bank-messages/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    texts = "\n---\n".join([mellat_sms(150_347, "7893"), "بانک ملت\nبرداشت:1,000,000-\nکارت:6037****7893",
                            "hello"])
    pasted = client.post("/bank-messages/paste", data={"csrf_token": token, "sender": "Bank Mellat",
                                                       "texts": texts}, follow_redirects=True)
    html = pasted.get_data(as_text=True)
    assert pasted.status_code == 200 and 'data-status="suggested"' in html and receipt.tracking_code in html
    statuses = sorted(db.session.scalars(sa.select(BankMessage.status)))
    assert statuses == ["refused", "refused", "suggested"]
    suggested = db.session.scalar(sa.select(BankMessage).where(BankMessage.status == "suggested"))
    client.post(f"/bank-messages/{suggested.id}/approve", data={"csrf_token": token})
    db.session.expire_all()
    assert receipt.status == "approved" and suggested.status == "approved"

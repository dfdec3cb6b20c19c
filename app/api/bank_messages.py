"""Deposit SMS from an SMS-forwarder app on the owner's phone: POST /bank-messages (scope bank)."""
from __future__ import annotations

from datetime import UTC

from apiflask import Schema
from apiflask.fields import DateTime, Integer, String
from apiflask.validators import Length

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.schemas import Strict
from app.services import audit, receipt_announcements
from app.services.payments import bank_matching

TAG = "Bank SMS"


class BankMessageIn(Strict):
    sender = String(required=True, validate=Length(1, bank_matching.MAX_SENDER),
                    metadata={"description": "The SMS sender as the phone shows it (number or name)."})
    text = String(required=True, validate=Length(1, bank_matching.MAX_TEXT))
    received_at = DateTime(load_default=None, metadata={"description": "When the phone received it (ISO 8601)."})


class BankMessageOut(Schema):
    id = Integer(required=True)
    status = String(required=True, metadata={"description": "approved, suggested, unmatched or refused."})
    reason = String(allow_none=True)
    bank = String(allow_none=True)
    amount = Integer(allow_none=True, metadata={"description": "Toman deposited."})
    tail = String(allow_none=True)
    receipt_id = Integer(allow_none=True)
    duplicate = String(required=True, metadata={"description": "\"true\" when this SMS was already received."})


@bp.post("/bank-messages")
@requires("bank")
@bp.input(BankMessageIn)
@bp.output(BankMessageOut, status_code=201)
@bp.doc(tags=[TAG], summary="Ingest one deposit SMS; the same SMS again changes nothing")
def post_bank_message(json_data):
    received_at = json_data.get("received_at")
    if received_at is not None and received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    result = bank_matching.ingest(tenant(), sender=json_data["sender"], text=json_data["text"],
                                  received_at=received_at, source=audit.actor_of(token()))
    message = result.message
    if message.status == "approved" and not result.duplicate:
        receipt_announcements.announce_decision(message.receipt)  # queued in this transaction; sent by the outbox after the commit
    return {"id": message.id, "status": message.status, "reason": message.reason, "bank": message.bank,
            "amount": message.amount, "tail": message.tail, "receipt_id": message.receipt_id,
            "duplicate": "true" if result.duplicate else "false"}

"""Support tickets over the API: the inbox, a staff reply reaching the member's outbox, ticket.created events."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.models import OutboxMessage, Ticket
from app.services import tickets
from tests.api.conftest import ApiClient
from tests.api.receiver import Receiver


@pytest.fixture
def ticket(db, make, tenant):
    bot = make.bot(tenant)
    member = make.member(tenant, telegram_id=4242)
    opened = tickets.open_ticket(member, bot, text="My link does not work")
    db.session.commit()
    return opened


def test_list_filter_and_reply(api, db, ticket):
    items = api.get("/api/v1/tickets?status=open").get_json()["items"]
    assert [(t["id"], t["telegram_id"], t["status"]) for t in items] == [(ticket.id, 4242, "open")]
    assert api.get("/api/v1/tickets?status=answered").get_json()["items"] == []

    response = api.post(f"/api/v1/tickets/{ticket.id}/reply", json={"text": "Fixed, please retry."})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "answered"
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "answered"
    to_member = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == tickets.TO_MEMBER)).all()
    assert len(to_member) == 1


def test_bad_reply_and_another_tenants_ticket(app, api, db, make, ticket, token_for):
    assert api.post(f"/api/v1/tickets/{ticket.id}/reply", json={"text": ""}).status_code == 422
    assert api.post(f"/api/v1/tickets/{ticket.id}/reply", json={"text": "x", "extra": 1}).status_code == 422
    stranger = ApiClient(app.test_client(), token_for(make.tenant()))
    assert stranger.post(f"/api/v1/tickets/{ticket.id}/reply", json={"text": "hi"}).status_code == 404
    assert stranger.get("/api/v1/tickets").get_json()["items"] == []
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "open"


def test_reply_needs_the_members_write_scope(app, db, ticket, token_for):
    reader = ApiClient(app.test_client(), token_for(ticket.member.tenant, ["read"]))
    assert reader.get("/api/v1/tickets").status_code == 200
    assert reader.post(f"/api/v1/tickets/{ticket.id}/reply", json={"text": "hi"}).status_code == 403


def test_ticket_created_event(api, db, drain_outbox, make, tenant):
    receiver = Receiver()
    try:
        api.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["ticket.created"]})
        member, bot = make.member(tenant, telegram_id=77), make.bot(tenant)
        tickets.open_ticket(member, bot, text="Hello")
        db.session.commit()
        drain_outbox()
        events = [json.loads(r["body"]) for r in receiver.requests]
        assert [(e["type"], e["data"]["telegram_id"], e["data"]["subject"]) for e in events] == [
            ("ticket.created", 77, "Hello")]
    finally:
        receiver.close()


def test_control_characters_in_a_query_are_a_problem_json_400(api):
    response = api.get("/api/v1/tickets?after=%00x")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "control_characters"

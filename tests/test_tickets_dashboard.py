"""The support inbox in the dashboard: list, answer, assign, close; the overview counts waiting tickets."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import OutboxMessage, Role, Ticket, TicketMessage
from app.services import tickets
from tests.helpers import csrf_token


def _setup(db, make, auth, role=Role.OWNER):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant)
    first = tickets.open_ticket(make.member(tenant, first_name="Sara"), bot, text="Where is my config?")
    second = tickets.open_ticket(make.member(tenant, first_name="Reza"), bot, text="Payment question")
    user = owner if role == Role.OWNER else make.staff(tenant, role)
    db.session.commit()
    auth.login(user.email)
    auth.use_language("en")
    return tenant, first, second


def test_inbox_answer_assign_close(client, db, make, auth):
    tenant, first, second = _setup(db, make, auth)
    page = client.get("/tickets/").get_data(as_text=True)
    assert page.index("Where is my config?") < page.index("Payment question")  # longest waiting first
    overview = client.get("/overview/").get_data(as_text=True)
    assert 'id="stat-tickets-waiting"' in overview

    token = csrf_token(client.get(f"/tickets/{first.id}"))
    assert client.post(f"/tickets/{first.id}/answer", data={"text": "", "csrf_token": token}).status_code == 400
    # A textarea sends its line breaks as CR LF: that is no control character to refuse.
    response = client.post(f"/tickets/{first.id}/answer", data={"text": "Sent it again.\r\nRetry.", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, first.id).status == "answered"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == tickets.TO_MEMBER)) == 1
    assert "Payment question" in client.get("/tickets/").get_data(as_text=True)
    assert "Where is my config?" not in client.get("/tickets/").get_data(as_text=True)

    owner_id = db.session.scalar(sa.select(TicketMessage.account_id).where(TicketMessage.author == "staff"))
    assert client.post(f"/tickets/{second.id}/assign", data={"assignee_id": owner_id, "csrf_token": token}).status_code == 302
    assert client.post(f"/tickets/{second.id}/close", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    closed = db.session.get(Ticket, second.id)
    assert closed.status == "closed" and closed.assignee_id == owner_id
    assert "Payment question" in client.get("/tickets/?status=closed").get_data(as_text=True)


def test_a_viewer_reads_but_cannot_answer(client, db, make, auth):
    tenant, first, _ = _setup(db, make, auth, role=Role.VIEWER)
    page = client.get(f"/tickets/{first.id}")
    assert page.status_code == 200 and "Send answer" not in page.get_data(as_text=True)
    token = csrf_token(page)
    assert client.post(f"/tickets/{first.id}/answer", data={"text": "x", "csrf_token": token}).status_code == 403


def test_support_staff_answer_tickets_and_read_members_only(client, db, make, auth):
    tenant, first, _ = _setup(db, make, auth, role=Role.SUPPORT)
    assert client.get("/").headers["Location"].endswith("/tickets/")
    token = csrf_token(client.get(f"/tickets/{first.id}"))
    assert client.post(f"/tickets/{first.id}/answer", data={"text": "On it", "csrf_token": token}).status_code == 302
    assert client.get(f"/members/{first.member_id}").status_code == 200
    for page in ("/overview/", "/receipts/", "/plans/", "/wallet/"):
        assert client.get(page).status_code == 403, page
    assert client.post(f"/members/{first.member_id}/ban", data={"csrf_token": token}).status_code == 403

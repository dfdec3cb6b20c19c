"""The support inbox in a real browser (#17), as tests/test_dashboard_browser.py drives the dashboard.

The member opens a ticket with a picture on the Sandbox chat page (the real bot runtime polls the sandbox),
a `support` staff member answers it in the dashboard inbox, and the member reads the answer in the Sandbox
chat (the outbox pool beside the runtime delivers it). Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.models import Ticket, TicketMessage
from tests.bots.conftest import REAL_HANDLERS
from tests.test_dashboard_browser import (  # noqa: F401  (fixtures)
    BOT_REPLY_MS,
    BUYER,
    TOKEN,
    bot_says,
    browser,
    live_server,
    log_in,
    receipt_png,
    shot,
)


def sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.click("#language-switch button[value=en]")
    page.fill("#email", email)
    page.fill("#password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_ticket_opened_in_the_sandbox_chat_answered_in_the_inbox(browser, live_server, start_manager,  # noqa: F811
                                                                    make, db, tmp_path):
    owner = make.account()
    tenant = make.tenant(owner=owner, default_language="en")
    make.bot(tenant, token=TOKEN)
    support = make.staff(tenant, "support", email="helpdesk@example.com")
    db.session.commit()
    start_manager(BOT_HANDLERS=REAL_HANDLERS)

    member_page = browser.new_page()
    member_page.set_default_timeout(10_000)
    log_in(member_page, live_server, owner)
    member_page.goto(f"{live_server}/sandbox?user_id={BUYER}&name=Sara&language=en")
    member_page.fill("#text", "/start")
    member_page.click("#send-form button[type=submit]")
    bot_says(member_page, "Sara").get_by_role("button", name="Support").click()
    bot_says(member_page, "Support").get_by_role("button", name="New ticket").click()
    bot_says(member_page, "Write your question")
    image = tmp_path / "screen.png"
    image.write_bytes(receipt_png())
    member_page.set_input_files("#photo", str(image))
    member_page.fill("#upload-form input[name=caption]", "My VPN link stopped working")
    member_page.click("#upload-form button[type=submit]")
    bot_says(member_page, "is open")
    shot(member_page, "30-ticket-opened-in-sandbox")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tenant_id == tenant.id))
    assert ticket.status == "open" and ticket.subject == "My VPN link stopped working"

    staff = browser.new_context().new_page()
    staff.set_default_timeout(10_000)
    sign_in(staff, live_server, support.email)
    staff.goto(f"{live_server}/tickets/")
    assert "My VPN link stopped working" in staff.inner_text("main")
    shot(staff, "31-inbox-waiting")
    staff.click(f"a[href$='/tickets/{ticket.id}']")
    staff.wait_for_url(f"**/tickets/{ticket.id}")
    staff.wait_for_function("() => document.querySelector('#ticket-messages img.ticket-photo')?.complete")  # loaded (or failed)
    assert staff.evaluate("document.querySelector('#ticket-messages img.ticket-photo').naturalWidth") == 240
    staff.fill("#text", "Please update the app and import the new link.")
    shot(staff, "32-ticket-answer-typed")
    staff.click("form[action$='/answer'] input[type=submit]")
    staff.wait_for_url(f"**/tickets/{ticket.id}")
    assert staff.inner_text("#ticket-status") == "Answered"
    assert "Please update the app" in staff.inner_text("#ticket-messages")
    shot(staff, "33-ticket-answered")

    answer = bot_says(member_page, "Please update the app and import the new link.")
    assert f"#{ticket.id}" in answer.inner_text()
    shot(member_page, "34-member-reads-the-answer")
    db.session.expire_all()
    authors = [m.author for m in db.session.scalars(
        sa.select(TicketMessage).where(TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id))]
    assert authors == ["member", "staff"] and db.session.get(Ticket, ticket.id).status == "answered"

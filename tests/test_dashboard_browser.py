"""The dashboard in a real browser (Playwright driving Debian's chromium): the owner's main journey.

Screenshots of each page go to test-artifacts/. The receipt is created through the money services
(the Sandbox chat purchase comes with the Telegram work).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.models import Member, Plan
from tests.dashboard_world import receipt_with_photo

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_problem() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (as root: apt-get install -y chromium, or run make test)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture
def browser():
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, db):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_owner_journey(browser, live_server, make, db, app):
    owner = make.account()
    tenant = make.tenant(owner=owner, wallet_credit_limit=10_000_000)
    member = make.member(tenant, first_name="Sara", username="sara_buyer")
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/login")
    page.click("#language-switch button[value=en]")
    page.fill("#email", owner.email)
    page.fill("#password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url("**/overview/")
    assert page.inner_text("#stat-revenue-today").startswith("0 ")
    shot(page, "01-overview-before")

    page.goto(f"{live_server}/plans/new")
    page.fill("#name", "Gold 30 days")
    page.fill("#period_days", "30")
    page.fill("#price", "150,000")
    page.fill("#traffic_gb", "50")
    shot(page, "02-plan-form")
    page.click("input[type=submit]")
    page.wait_for_url("**/plans/")
    assert "Gold 30 days" in page.inner_text("main")
    shot(page, "03-plans")

    page.goto(f"{live_server}/cards/new")
    page.fill("#card_number", "6037 9911 1111 1112")
    page.fill("#holder_name", "Sara Ahmadi")
    page.fill("#bank_name", "Melli")
    page.click("input[type=submit]")
    page.wait_for_url("**/cards/")
    assert "6037 **** **** 1112" in page.inner_text("main")
    shot(page, "04-cards")

    plan = db.session.scalar(sa.select(Plan).where(Plan.tenant_id == tenant.id))
    receipt = receipt_with_photo(db, make, tenant, member, plan=plan, instance_path=app.instance_path)

    page.goto(f"{live_server}/receipts/")
    page.click(f"text={receipt.tracking_code}")
    photo = page.locator("#receipt-photo")
    photo.wait_for()
    assert page.evaluate("document.querySelector('#receipt-photo').naturalWidth") > 0
    shot(page, "05-receipt")
    page.click("form[action$='/approve'] input[type=submit]")
    page.wait_for_url("**/receipts/")
    shot(page, "06-queue-after")

    page.goto(f"{live_server}/members/?q=sara")
    page.click("text=Sara")
    assert page.inner_text("#member-subscription").startswith("Gold 30 days")
    assert page.inner_text("#member-balance").startswith("0 ")  # 150,000 credited, then spent on the plan
    assert "150,000" in page.inner_text("#member-ledger")
    shot(page, "07-member")

    page.goto(f"{live_server}/overview/")
    assert page.inner_text("#stat-revenue-today").startswith("150,000")
    assert page.inner_text("#stat-active-subscriptions") == "1"
    shot(page, "08-overview-after")

    page.click("#language-switch button[value=fa]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "fa"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    shot(page, "09-overview-persian")
    db.session.expire_all()
    assert db.session.get(Member, member.id).balance == 0

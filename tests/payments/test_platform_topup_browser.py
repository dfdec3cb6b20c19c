"""In a real browser (Playwright + Debian's chromium): the owner uploads a wallet top-up receipt, a platform
admin approves it in the platform receipt queue, and the owner's wallet balance changes."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.payments.platform_topup_helpers import platform_card
from tests.test_dashboard_browser import browser, receipt_png, shot  # noqa: F401  (browser is a fixture)


@pytest.fixture
def served(app, db, tmp_path, monkeypatch):
    """The app (its receipt images in a temporary instance folder) on an ephemeral port."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def sign_in(browser, base, account, lands_on: str):  # noqa: F811
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.click("#language-switch button[value=en]")
    page.fill("#email", account.email)
    page.fill("#password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(lands_on)
    return page


@pytest.mark.timeout(120)
def test_owner_uploads_a_receipt_and_the_platform_admin_approves_it(browser, served, make, db, tmp_path):  # noqa: F811
    owner = make.account()
    tenant = make.tenant(owner=owner, default_language="en")
    tenant.wallet_balance = 0
    admin = make.account(platform_admin=True)
    card = platform_card(db)
    image = tmp_path / "receipt.png"
    image.write_bytes(receipt_png())

    page = sign_in(browser, served, owner, "**/overview/")
    page.goto(f"{served}/wallet/")
    assert page.inner_text("#wallet-balance").startswith("0 ")
    form = page.locator("#card-topup")
    form.locator("#card_id").select_option(str(card.id))
    form.locator("#amount").fill("250,000")
    form.locator("#photo").set_input_files(str(image))
    form.locator("#text").fill("ref 123456")
    shot(page, "topup-01-owner-form")
    form.locator("input[type=submit]").click()
    page.wait_for_url("**/wallet/#platform-receipts")
    assert "TOP-" in page.inner_text("#topup-pending")
    code = page.inner_text("#platform-receipt-list tbody tr td.ltr")

    admin_page = sign_in(browser, served, admin, "**/admin/tenants")
    admin_page.click("#platform-nav >> text=Wallet top-up receipts")
    admin_page.click(f"text={code}")
    admin_page.locator("#receipt-photo").wait_for()
    # A predicate as a function: a bare expression is eval'd in the page, which the CSP refuses (no 'unsafe-eval').
    admin_page.wait_for_function("() => document.querySelector('#receipt-photo').naturalWidth == 240")
    assert admin_page.inner_text("#receipt-amount").startswith("250,000")
    shot(admin_page, "topup-02-admin-receipt")
    admin_page.click("#approve-form input[type=submit]")
    admin_page.wait_for_url("**/admin/receipts")
    assert code in admin_page.inner_text("#platform-receipt-history")

    page.goto(f"{served}/wallet/")
    assert page.inner_text("#wallet-balance").startswith("250,000")
    assert "250,000" in page.inner_text("#wallet-ledger")
    assert page.get_attribute("#platform-receipt-list tbody tr", "data-status") == "approved"
    page.goto(f"{served}/overview/")
    assert "approved your card-to-card top-up" in page.inner_text(".notice")
    shot(page, "topup-03-owner-after")

"""The dashboard in a real browser (Playwright driving Debian's chromium): the owner's main journey.

A real sandbox and the real bot runtime run beside the served app: the owner connects a bot, buys a plan
as a test user on the Sandbox chat page (inline buttons, an uploaded receipt image), then approves it in
the queue. Screenshots of each page go to test-artifacts/.
"""
from __future__ import annotations

import os
import struct
import threading
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.models import Member, Receipt
from tests.bots.conftest import REAL_HANDLERS

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "7000000001:AAH-sandbox-browser-journey-token"
BUYER = 990_000_777
BOT_REPLY_MS = 15_000


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
def live_server(bot_app, db, tmp_path):  # noqa: F811  (bot_app is the engine's fixture)
    """The app pointed at the sandbox, with the real conversation handlers, served on an ephemeral port."""
    saved = bot_app.config["BOT_HANDLERS"], bot_app.instance_path
    bot_app.config["BOT_HANDLERS"], bot_app.instance_path = REAL_HANDLERS, str(tmp_path / "instance")
    server = make_server("127.0.0.1", 0, bot_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    bot_app.config["BOT_HANDLERS"], bot_app.instance_path = saved


def receipt_png(width=240, height=160) -> bytes:
    """A striped PNG big enough to see in the screenshots (made here: nothing is downloaded)."""
    rows = b"".join(b"\x00" + bytes((40, 120 + (y * 2) % 120, 200) * width) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def artifacts(*parts: str) -> Path:
    """test-artifacts/<backend>/<parts>, made: the two legs of `make test` run side by side."""
    folder = ARTIFACTS.joinpath(os.environ.get("TEST_DB", "sqlite"), *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/<backend>/."""
    page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)


def log_in(page, base, owner):
    page.goto(f"{base}/login")
    page.click("#language-switch button[value=en]")
    page.fill("#email", owner.email)
    page.fill("#password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url("**/overview/")


def create_plan_card_and_bot(page, base):
    page.goto(f"{base}/plans/new")
    page.fill("#name", "Gold 30 days")
    page.fill("#period_days", "30")
    page.fill("#price", "150,000")
    page.fill("#traffic_gb", "50")
    shot(page, "02-plan-form")
    page.click("input[type=submit]")
    page.wait_for_url("**/plans/")
    assert "Gold 30 days" in page.inner_text("main")
    shot(page, "03-plans")

    page.goto(f"{base}/cards/new")
    page.fill("#card_number", "6037 9911 1111 1112")
    page.fill("#holder_name", "Sara Ahmadi")
    page.fill("#bank_name", "Melli")
    page.click("input[type=submit]")
    page.wait_for_url("**/cards/")
    assert "6037 **** **** 1112" in page.inner_text("main")
    shot(page, "04-cards")

    page.goto(f"{base}/bots/new")
    page.fill("#token", TOKEN)
    page.click("input[type=submit]")
    page.wait_for_url("**/bots/**")
    assert "sandbox7000000001_bot" in page.inner_text("main")
    shot(page, "05-bot")


def bot_says(page, text: str, nth: int = -1):
    """Wait until the bot has written a bubble containing text on the Sandbox chat page; return it."""
    bubble = page.locator("#chat-log li.from-bot", has_text=text)
    bubble.nth(nth).wait_for(timeout=BOT_REPLY_MS)
    return bubble.nth(nth)


def buy_in_sandbox_chat(page, base, tmp_path) -> None:
    page.goto(f"{base}/sandbox?user_id={BUYER}&name=Sara&language=en")
    page.fill("#text", "/start")
    page.click("#send-form button[type=submit]")
    bot_says(page, "Sara").get_by_role("button", name="Plans").click()
    bot_says(page, "Gold 30 days").get_by_role("button", name="Gold 30 days").click()
    bot_says(page, "Card-to-card").get_by_role("button", name="Card-to-card").click()
    invoice = bot_says(page, "6037 9911 1111 1112")
    assert "Sara Ahmadi" in invoice.inner_text() and "150,000" in invoice.inner_text()
    shot(page, "06-sandbox-invoice")

    image = tmp_path / "receipt.png"
    image.write_bytes(receipt_png())
    page.set_input_files("#photo", str(image))
    page.click("#upload-form button[type=submit]")
    page.locator("#chat-log li.from-user img").wait_for(timeout=BOT_REPLY_MS)
    bot_says(page, "waiting for review")
    page.wait_for_function("() => document.querySelector('#chat-log li.from-user img').naturalWidth == 240")
    shot(page, "07-sandbox-receipt-sent")


def test_owner_journey(browser, live_server, start_manager, make, db, tmp_path):  # noqa: F811
    owner = make.account()
    tenant = make.tenant(owner=owner, wallet_credit_limit=10_000_000, default_language="en")
    db.session.commit()
    start_manager(BOT_HANDLERS=REAL_HANDLERS)
    page = browser.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, owner)
    assert page.inner_text("#stat-revenue-today").startswith("0 ")
    shot(page, "01-overview-before")
    create_plan_card_and_bot(page, live_server)
    buy_in_sandbox_chat(page, live_server, tmp_path)

    receipt = db.session.scalar(sa.select(Receipt).where(Receipt.tenant_id == tenant.id))
    page.goto(f"{live_server}/receipts/")
    page.click(f"text={receipt.tracking_code}")
    page.wait_for_function("() => document.querySelector('#receipt-photo')?.complete")  # loaded (or failed)
    assert page.evaluate("document.querySelector('#receipt-photo').naturalWidth") == 240
    shot(page, "08-receipt")
    page.click("form[action$='/approve'] input[type=submit]")
    page.wait_for_url("**/receipts/")
    shot(page, "09-queue-after")

    page.goto(f"{live_server}/members/?q=sara")
    page.click("text=Sara")
    assert page.inner_text("#member-subscription").startswith("Gold 30 days")
    assert page.inner_text("#member-balance").startswith("0 ")  # 150,000 credited, then spent on the plan
    assert "150,000" in page.inner_text("#member-ledger")
    shot(page, "10-member")

    page.goto(f"{live_server}/sandbox?user_id={BUYER}&name=Sara&language=en")
    bot_says(page, "Payment")
    shot(page, "11-sandbox-member-told")

    page.goto(f"{live_server}/overview/")
    assert page.inner_text("#stat-revenue-today").startswith("150,000")
    assert page.inner_text("#stat-active-subscriptions") == "1"
    shot(page, "12-overview-after")

    page.click("#language-switch button[value=fa]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "fa"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    shot(page, "13-overview-persian")
    page.goto(f"{live_server}/sandbox?user_id={BUYER}&name=Sara&language=fa")
    assert page.inner_text("h1") == "گفت‌وگوی آزمایشی" and page.get_attribute("html", "dir") == "rtl"
    bot_says(page, "Payment")
    shot(page, "14-sandbox-persian")
    db.session.expire_all()
    assert db.session.get(Member, receipt.member_id).balance == 0


def test_a_refused_purchase_shows_the_bots_alert(browser, live_server, start_manager, make, db):  # noqa: F811
    """The bot refuses with answerCallbackQuery(show_alert=True); the page shows it as Telegram does:
    a dialog the user dismisses (before, the press looked as if nothing happened)."""
    owner = make.account()
    tenant = make.tenant(owner=owner, default_language="en")
    plan = make.plan(tenant, name="Silver 7 days", price=70_000, period_days=7)
    make.bot(tenant, token=TOKEN)
    db.session.commit()
    start_manager(BOT_HANDLERS=REAL_HANDLERS)
    page = browser.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/sandbox?user_id={BUYER}&name=Sara&language=en")
    page.fill("#text", "/start")
    page.click("#send-form button[type=submit]")
    bot_says(page, "Sara").get_by_role("button", name="Plans").click()
    offer = bot_says(page, "Silver 7 days")
    offer.get_by_role("button", name="Silver 7 days").click()
    pay = bot_says(page, "70,000").get_by_role("button", name="Pay from balance")
    pay.wait_for(timeout=BOT_REPLY_MS)
    plan.is_active = False  # taken off sale while the member looks at it
    db.session.commit()

    pay.click()

    alert = page.get_by_role("alertdialog")
    alert.wait_for(timeout=BOT_REPLY_MS)
    assert alert.inner_text().startswith("This plan is no longer on sale.")
    shot(page, "15-sandbox-refused-alert")
    alert.get_by_role("button", name="OK").click()
    alert.wait_for(state="detached")


def test_paying_a_stars_invoice_with_the_pay_button(browser, live_server, sandbox_server, make, db):  # noqa: F811
    """A Stars invoice in the Sandbox chat has a Pay button: the bot's refusal (answerPreCheckoutQuery
    ok=false) shows as an alert, its consent as the payment in the conversation."""
    from tests.engine.conftest import Sandbox
    from tests.engine.test_sandbox_chat import answer_next_pre_checkout

    owner = make.account()
    tenant = make.tenant(owner=owner, default_language="en")
    bot = make.bot(tenant, token=TOKEN)
    db.session.commit()
    sandbox = Sandbox(sandbox_server.url)
    sandbox.post("/sandbox/bots", {"token": TOKEN})
    sandbox.open_chat(BUYER, bot.telegram_bot_id)
    sandbox.post(f"/bot{TOKEN}/sendInvoice", {
        "chat_id": BUYER, "title": "VIP channel", "description": "30 days of VIP", "payload": "plan:1",
        "provider_token": "", "currency": "XTR", "prices": [{"label": "VIP", "amount": 30}]})
    page = browser.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/sandbox?user_id={BUYER}&name=Sara&language=en")
    pay = bot_says(page, "VIP channel").locator("button.sandbox-pay")

    refusing = answer_next_pre_checkout(sandbox, TOKEN, ok=False, error_message="Sold out")
    pay.click()
    alert = page.get_by_role("alertdialog")
    alert.wait_for(timeout=BOT_REPLY_MS)
    assert alert.inner_text().startswith("Sold out")
    refusing.join(10)
    shot(page, "16-sandbox-stars-refused")
    alert.get_by_role("button", name="OK").click()

    accepting = answer_next_pre_checkout(sandbox, TOKEN, ok=True)
    pay.click()
    page.locator("#chat-log li.from-user", has_text="You paid 30 ⭐").wait_for(timeout=BOT_REPLY_MS)
    accepting.join(10)
    shot(page, "17-sandbox-stars-paid")
    sandbox.http.close()


def test_a_broadcast_composed_previewed_confirmed_and_followed_to_100_percent(browser, live_server, sandbox_server,
                                                                             bot_app, make, db):  # noqa: F811
    """Compose → preview with the count per language → confirm → the progress bar (polled JSON) reaches 100%;
    the outbox pool delivers to every member through the sandbox."""
    from app.models import BotSession
    from app.services.bots import bot_token
    from app.worker.pool import Pool
    from tests.engine.conftest import Sandbox

    owner = make.account()
    tenant = make.tenant(owner=owner, default_language="en")
    bot = make.bot(tenant, token=TOKEN)
    sandbox = Sandbox(sandbox_server.url)
    sandbox.post("/sandbox/bots", {"token": bot_token(bot)})
    members = [make.member(tenant, language_code=("en", "fa", "ru")[n % 3]) for n in range(12)]
    for member in members:
        db.session.add(BotSession(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id, session_data={},
                                  stats_data={}))
        sandbox.open_chat(member.telegram_id, bot.telegram_bot_id)
    db.session.commit()
    sandbox.post("/sandbox/latency", {"ms": 150})  # so the page sees it sending before it is done
    pool = Pool(bot_app, size=2)
    page = browser.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server, owner)
        page.goto(f"{live_server}/broadcasts/new")
        page.check("#bot_ids-0")
        page.fill("#text", "Spring sale: 20% off every plan")
        page.fill("#text_fa", "حراج بهاری: ۲۰٪ تخفیف")
        page.fill("#button_text", "See plans")
        page.fill("#button_url", "https://example.com/plans")
        shot(page, "18-broadcast-compose")
        page.click("#submit")
        page.wait_for_url("**/broadcasts/*")
        assert page.inner_text("#recipient-count").startswith("12 members")
        previews = page.locator(".preview")
        assert previews.count() == 3
        assert "حراج بهاری" in page.inner_text(".preview[data-language=fa] .preview-text")
        assert page.inner_text(".preview[data-language=en] .preview-text") == "Spring sale: 20% off every plan"
        shot(page, "19-broadcast-preview")

        pool.start()
        page.click("#confirm-broadcast")
        page.locator("#broadcast-progress").wait_for()
        # Predicates as functions: a bare expression is eval'd in the page, which the CSP refuses (no 'unsafe-eval').
        page.wait_for_function("() => document.querySelector('#progress-bar').textContent.trim() === '100%' && "
                               "document.querySelector('[data-field=remaining]').textContent.trim() === '0'")
        page.wait_for_function("() => document.querySelector('#broadcast-progress').dataset.status === 'done'")
        shot(page, "20-broadcast-done")
        assert page.inner_text("[data-field=sent]") == "12"
    finally:
        pool.stop()
        sandbox.post("/sandbox/latency", {"ms": 0})
        sandbox.http.close()
    texts = [sandbox.bot_texts(bot.telegram_bot_id, m.telegram_id) for m in members]
    assert texts == [["حراج بهاری: ۲۰٪ تخفیف" if m.language_code == "fa" else "Spring sale: 20% off every plan"]
                     for m in members]

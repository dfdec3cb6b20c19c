"""The dashboard's sandbox chat page: tenant-scoped, CSRF-protected, talking to a real sandbox and bot."""
import base64
import io
import threading

import pytest

from tests.engine.conftest import closed_port_url
from tests.helpers import csrf_token
from tests.waiting import wait_until

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")


@pytest.fixture
def owner_with_bot(make, make_bot, auth):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    auth.login(owner.email)
    return tenant, make_bot(tenant)


def identity(client, bot, user_id=55501, **extra):
    page = client.get(f"/sandbox?bot_id={bot.id}&user_id={user_id}")
    return {"csrf_token": csrf_token(page), "bot_id": bot.id, "user_id": user_id, "name": "Sara",
            "language": "en", **extra}


def conversation(client, bot, user_id=55501):
    response = client.get(f"/sandbox/messages?bot_id={bot.id}&user_id={user_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["messages"]


def test_the_page_needs_a_login(client, bot_app):
    assert client.get("/sandbox").status_code == 302
    assert client.get("/sandbox/messages?bot_id=1&user_id=1").status_code == 302


def test_another_tenants_bot_is_a_404(client, owner_with_bot, make, make_bot):
    _, mine = owner_with_bot
    theirs = make_bot(make.tenant())
    assert client.get(f"/sandbox?bot_id={theirs.id}").status_code == 404
    assert client.get(f"/sandbox/messages?bot_id={theirs.id}&user_id=1").status_code == 404
    data = identity(client, mine, text="/start")
    data["bot_id"] = theirs.id
    assert client.post("/sandbox/send", data=data).status_code == 404
    page = client.get("/sandbox").get_data(as_text=True)
    assert f"@{mine.username}" in page and f"@{theirs.username}" not in page


def test_every_post_needs_the_csrf_token(client, owner_with_bot):
    _, bot = owner_with_bot
    data = identity(client, bot, text="/start")
    del data["csrf_token"]
    for path in ("/sandbox/send", "/sandbox/upload", "/sandbox/press", "/sandbox/pay"):
        assert client.post(path, data=data).status_code == 400


def test_chatting_with_a_bot_from_the_dashboard(client, owner_with_bot, start_manager):
    _, bot = owner_with_bot
    start_manager()
    assert client.post("/sandbox/send", data=identity(client, bot, text="/start")).status_code == 200
    wait_until(lambda: [m for m in conversation(client, bot) if m["from_bot"]], 10)
    assert [m["text"] for m in conversation(client, bot)] == ["/start", f"hello from {bot.id}"]

    client.post("/sandbox/send", data=identity(client, bot, text="/buttons"))
    asked = wait_until(lambda: [m for m in conversation(client, bot) if m["buttons"]], 10)[0]
    assert [b["text"] for b in asked["buttons"][0]] == ["Yes", "No"]
    pressed = client.post("/sandbox/press", data=identity(client, bot, message_id=asked["id"], data="yes"))
    assert pressed.status_code == 200
    edited = wait_until(lambda: [m for m in conversation(client, bot) if m["edited"]], 10)[0]
    assert edited["text"] == "you chose yes" and edited["id"] == asked["id"]

    upload = identity(client, bot, caption="my receipt")
    upload["photo"] = (io.BytesIO(PNG), "receipt.png")
    assert client.post("/sandbox/upload", data=upload, content_type="multipart/form-data").status_code == 200
    photo = wait_until(lambda: [m for m in conversation(client, bot) if m["photo"]], 10)[0]
    assert photo["caption"] == "my receipt"
    image = client.get(f"/sandbox/photo?bot_id={bot.id}&file_id={photo['photo']}")
    assert image.status_code == 200 and image.data == PNG


def test_an_absent_sandbox_is_explained(client, owner_with_bot, bot_app):
    _, bot = owner_with_bot
    bot_app.config["TELEGRAM_API_URL"] = closed_port_url()
    response = client.get(f"/sandbox/messages?bot_id={bot.id}&user_id=1")
    assert response.status_code == 503 and "flask sandbox" in response.get_json()["error"]


def answer_next_pre_checkout(sandbox, token, **answer):
    """Stand in for a bot: answer the next pre_checkout_query it gets (over the Bot API)."""
    def run():
        for _ in range(20):
            updates = sandbox.http.get(f"{sandbox.url}/bot{token}/getUpdates", params={"timeout": 1},
                                       timeout=10).json()["result"]
            queries = [u["pre_checkout_query"] for u in updates if "pre_checkout_query" in u]
            if updates:
                sandbox.http.get(f"{sandbox.url}/bot{token}/getUpdates",
                                 params={"offset": updates[-1]["update_id"] + 1}, timeout=10)
            if queries:
                sandbox.http.post(f"{sandbox.url}/bot{token}/answerPreCheckoutQuery",
                                  json={"pre_checkout_query_id": queries[0]["id"], **answer}, timeout=10)
                return
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_paying_a_stars_invoice_from_the_chat_page(client, owner_with_bot, sandbox, bot_app):
    from app.services.bots import bot_token
    _, bot = owner_with_bot
    token, user_id = bot_token(bot), 55501
    sandbox.open_chat(user_id, bot.telegram_bot_id)
    sandbox.post(f"/bot{token}/sendInvoice", {
        "chat_id": user_id, "title": "VIP", "description": "a month of VIP", "payload": "plan:1",
        "provider_token": "", "currency": "XTR", "prices": [{"label": "VIP", "amount": 30}]})
    [invoice] = [m for m in conversation(client, bot) if m["invoice"]]
    assert (invoice["invoice"]["amount"], invoice["buttons"][0][0]["pay"]) == (30, True)
    data = identity(client, bot, invoice=invoice["invoice"]["slug"])

    refusing = answer_next_pre_checkout(sandbox, token, ok=False, error_message="Sold out")
    refused = client.post("/sandbox/pay", data=data).get_json()["result"]
    refusing.join(10)
    assert (refused["status"], refused["error_message"]) == ("declined", "Sold out")

    accepting = answer_next_pre_checkout(sandbox, token, ok=True)
    assert client.post("/sandbox/pay", data=data).get_json()["result"]["status"] == "paid"
    accepting.join(10)
    assert "30 ⭐" in conversation(client, bot)[-1]["text"]  # "You paid 30 ⭐", in the page language
    assert client.post("/sandbox/pay", data={**data, "invoice": ""}).status_code == 400

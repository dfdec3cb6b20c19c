"""Telegram behaviours added in the second round: webhook retention and its controls, HTTPS-only
webhooks, latency, raw updates in the chat log, inline-message edits, photo sizes, attach://."""

import base64
import struct
import time
import zlib

import pytest
import requests

from bots.emulator import SandboxServer
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(30)


def png_of(width, height):
    """A valid, blank PNG of the given size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def call(base_url, token, method, **params):
    return requests.post(f"{base_url}/bot{token}/{method}", json=params, timeout=10)


def test_a_failing_webhook_keeps_the_update_and_shows_the_retries(make_bot, control,
                                                                  webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver(failures=3)
    bot.set_webhook(receiver.url)

    sent = control.user_says(bot_id, 960, "keep me")

    assert receiver.wait_for(lambda r: r.delivered, timeout=15)
    deliveries = wait_for(lambda: [d for d in control.get(
        "/sandbox/webhook-deliveries", bot_id=bot_id).json()["deliveries"] if d["delivered"]], 5)
    assert deliveries == [{"update_id": sent["update_id"], "attempts": 4, "last_status": 200,
                           "next_attempt_at": None, "delivered": True, "dropped": False}]


def test_a_shortened_retention_drops_an_undeliverable_update(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver(failures=1000)
    bot.set_webhook(receiver.url)
    control.user_says(bot_id, 961, "doomed")
    assert receiver.wait_for(lambda r: len(r.attempts) >= 1, timeout=10)
    # The receiver records the attempt before the sandbox has read its answer.
    [waiting] = wait_for(lambda: [d for d in control.get(
        "/sandbox/webhook-deliveries", bot_id=bot_id).json()["deliveries"] if d["last_status"]], 5)
    assert waiting["delivered"] is False and waiting["last_status"] == 500
    assert waiting["next_attempt_at"] > time.time() - 1

    assert control.post("/sandbox/webhook-retention", {"seconds": 0}).status_code == 200

    assert wait_for(lambda: bot.get_webhook_info().pending_update_count == 0, 10)
    [dropped] = control.get("/sandbox/webhook-deliveries", bot_id=bot_id).json()["deliveries"]
    assert (dropped["delivered"], dropped["dropped"], dropped["next_attempt_at"]) == (
        False, True, None)
    assert control.post("/sandbox/webhook-retention", {"seconds": "soon"}).status_code == 400


def test_webhooks_must_be_https_on_telegrams_ports_by_default():
    with SandboxServer(allow_http_webhooks=False) as server:
        token = "77:https-only"
        answers = [call(server.url, token, "setWebhook", url=hook).json() for hook in (
            "http://example.com/hook", "https://example.com:9443/hook",
            "https://example.com:8443/hook")]
    assert [answer.get("description") for answer in answers[:2]] == [
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"]
    assert answers[2] == {"ok": True, "result": True}


def test_the_environment_switch_allows_http_webhooks(monkeypatch):
    monkeypatch.setenv("SANDBOX_ALLOW_HTTP_WEBHOOKS", "1")
    with SandboxServer() as server:
        answer = call(server.url, "78:http-ok", "setWebhook", url="http://127.0.0.1:5000/tg/1")
    assert answer.json() == {"ok": True, "result": True}


def test_latency_delays_bot_api_calls(sandbox, control, new_token):
    """Only the lower bound is checked (a sleep guarantees it); an upper bound would be timing."""
    token = new_token()
    bot_id = int(token.split(":")[0])
    assert control.post("/sandbox/latency", {"ms": 400, "bot_id": bot_id}).status_code == 200

    started = time.monotonic()
    answer = call(sandbox.url, token, "getMe")

    assert answer.json()["ok"] and time.monotonic() - started >= 0.4
    assert control.post("/sandbox/latency", {"ms": 0, "bot_id": bot_id}).status_code == 200
    assert control.post("/sandbox/latency", {"ms": -1}).status_code == 400


def test_a_raw_message_enters_the_chat_log_and_can_be_edited(make_bot, control):
    bot, bot_id = make_bot()
    raw = {"message": {"message_id": 50, "date": 1_700_000_000, "text": "from a channel bot",
                       "chat": {"id": 962, "type": "private", "first_name": "Raw"},
                       "from": {"id": bot_id, "is_bot": True, "first_name": "Me"}}}
    answer = control.post("/sandbox/updates", {"bot_id": bot_id, "raw": raw}).json()

    edited = bot.edit_message_text("edited later", 962, 50)

    assert answer["delivered"] is True
    assert edited.text == "edited later"
    assert [(m["message_id"], m["text"], m["edited"]) for m in control.messages(bot_id, 962)] == [
        (50, "edited later", True)]


def test_inline_messages_can_be_edited(make_bot, control):
    bot, bot_id = make_bot()
    raw = {"chosen_inline_result": {"result_id": "1", "query": "q", "inline_message_id": "IM1",
                                    "from": {"id": 963, "is_bot": False, "first_name": "In"}}}
    control.post("/sandbox/updates", {"bot_id": bot_id, "raw": raw})

    assert bot.edit_message_text("<b>new</b>", inline_message_id="IM1", parse_mode="HTML") is True
    with pytest.raises(Exception, match="MESSAGE_ID_INVALID"):
        bot.edit_message_text("x", inline_message_id="unknown")
    [message] = control.get("/sandbox/inline-messages", bot_id=bot_id).json()["messages"]
    assert (message["text"], message["entities"]) == (
        "new", [{"type": "bold", "offset": 0, "length": 3}])


def test_a_large_photo_comes_in_telegrams_sizes(make_bot, control):
    bot, bot_id = make_bot()
    control.post("/sandbox/updates", {"bot_id": bot_id, "from": {"id": 964, "first_name": "P"},
                                      "photo": base64.b64encode(png_of(2000, 1000)).decode()})

    [update] = bot.get_updates(timeout=1)

    photo = update.message.photo
    assert [(size.width, size.height) for size in photo] == [
        (90, 45), (320, 160), (800, 400), (1280, 640)]
    assert len({size.file_id for size in photo}) == 4


def test_attach_uploads_and_missing_parts(sandbox, control, new_token, png_bytes):
    token = new_token()
    url = f"{sandbox.url}/bot{token}/sendPhoto"
    attached = requests.post(url, data={"chat_id": 5, "photo": "attach://pic"},
                             files={"pic": ("p.png", png_bytes, "image/png")}, timeout=10)
    missing = requests.post(url, data={"chat_id": 5, "photo": "attach://nothing"},
                            files={"pic": ("p.png", png_bytes, "image/png")}, timeout=10)

    assert attached.json()["result"]["photo"][-1]["width"] == 2
    assert missing.json()["description"] == "Bad Request: wrong file identifier/HTTP URL specified"

"""Webhook delivery: secret header, retries with backoff, ordering, and 409 for getUpdates."""

import time

import pytest
import requests

from bots.emulator import RetryPolicy, SandboxServer
from tests.waiting import eventually, wait_until

pytestmark = pytest.mark.timeout(30)


def test_get_updates_conflicts_while_a_webhook_is_set(make_bot, sandbox):
    bot, _ = make_bot()
    bot.set_webhook("http://127.0.0.1:9/hook")

    response = requests.get(f"{sandbox.url}/bot{bot.token}/getUpdates", timeout=5)
    bot.delete_webhook()
    after_delete = requests.get(f"{sandbox.url}/bot{bot.token}/getUpdates", timeout=5)

    assert response.status_code == 409
    assert response.json()["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first")
    assert after_delete.status_code == 200


def test_failing_webhook_is_retried_until_delivered_once(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver(failures=2)
    bot.set_webhook(receiver.url, secret_token="s3cret-Token_1")

    sent = control.user_says(bot_id, 950, "hello hook")

    assert receiver.wait_for(lambda r: r.delivered, timeout=10)
    # once the sandbox holds no pending update, no further (duplicate) delivery can come
    assert eventually(lambda: bot.get_webhook_info().pending_update_count, 0) == 0
    assert [update["update_id"] for update in receiver.attempts] == [sent["update_id"]] * 3
    [(update, secret)] = receiver.delivered
    assert (update["message"]["text"], secret) == ("hello hook", "s3cret-Token_1")
    assert [b["webhook_url"] for b in control.get("/sandbox/bots").json()["bots"]] == [receiver.url]


def test_updates_are_delivered_in_order(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver(failures=1)
    texts = [f"message {index}" for index in range(5)]
    for text in texts:
        control.user_says(bot_id, 951, text)

    bot.set_webhook(receiver.url)

    assert receiver.wait_for(lambda r: len(r.delivered) == 5, timeout=10)
    assert [update["message"]["text"] for update, _ in receiver.delivered] == texts
    assert all(secret is None for _, secret in receiver.delivered)


def test_drop_pending_updates_discards_the_queue(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver()
    control.user_says(bot_id, 952, "stale")

    bot.set_webhook(receiver.url, drop_pending_updates=True)
    control.user_says(bot_id, 952, "fresh")

    assert receiver.wait_for(lambda r: r.delivered, timeout=10)
    # updates are delivered in order, so a kept "stale" would have come first; and nothing is left pending
    assert eventually(lambda: bot.get_webhook_info().pending_update_count, 0) == 0
    assert [update["message"]["text"] for update, _ in receiver.delivered] == ["fresh"]


@pytest.fixture
def fast_retry_sandbox():
    """A sandbox whose webhook retries are quick, to watch one update being given up."""
    server = SandboxServer(retry_policy=RetryPolicy(attempts=5, first_delay=0.01,
                                                    max_delay=0.05)).start()
    yield server
    server.stop()


def test_update_is_dropped_after_the_last_attempt(fast_retry_sandbox, webhook_receiver):
    url = fast_retry_sandbox.url
    token = "42:webhook-drop"
    receiver = webhook_receiver(failures=5)
    requests.post(f"{url}/sandbox/bots", json={"token": token}, timeout=5)
    requests.post(f"{url}/bot{token}/setWebhook", data={"url": receiver.url}, timeout=5)

    requests.post(f"{url}/sandbox/updates", timeout=5,
                  json={"bot_id": 42, "from": {"id": 1, "first_name": "A"}, "text": "lost"})
    requests.post(f"{url}/sandbox/updates", timeout=5,
                  json={"bot_id": 42, "from": {"id": 1, "first_name": "A"}, "text": "next"})

    assert receiver.wait_for(lambda r: r.delivered, timeout=10)

    def info():
        return requests.get(f"{url}/bot{token}/getWebhookInfo", timeout=5).json()["result"]
    assert eventually(lambda: info()["pending_update_count"], 0) == 0
    assert [update["message"]["text"] for update in receiver.attempts] == ["lost"] * 5 + ["next"]
    assert info()["last_error_message"] == (
        "Wrong response from the webhook: 500 INTERNAL SERVER ERROR")


def test_a_method_in_the_webhook_answer_is_executed_logged_and_shown(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver()
    receiver.reply = {"method": "sendMessage", "chat_id": 954, "text": "answered in the response",
                      "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}}
    bot.set_webhook(receiver.url)

    control.user_says(bot_id, 954, "hi")

    assert receiver.wait_for(lambda r: r.delivered, timeout=10)
    sends = wait_until(lambda: control.calls(bot_id, "sendMessage"), message="the executed sendMessage")
    assert (sends[0]["params"]["text"], str(sends[0]["params"]["chat_id"])) == ("answered in the response", "954")
    assert sends[0]["error_code"] is None
    messages = control.messages(bot_id, 954)
    assert [(m["from_bot"], m["text"]) for m in messages] == [(False, "hi"), (True, "answered in the response")]
    assert messages[-1]["reply_markup"] == {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}


def test_a_refused_method_in_the_webhook_answer_is_logged_with_its_error(make_bot, control, webhook_receiver):
    bot, bot_id = make_bot()
    receiver = webhook_receiver()
    receiver.reply = {"method": "sendMessage", "chat_id": 955, "text": ""}  # Telegram refuses empty text
    bot.set_webhook(receiver.url)

    control.user_says(bot_id, 955, "first")
    control.user_says(bot_id, 955, "second")

    # the refusal neither stops delivery nor retries the update: both arrive once
    assert receiver.wait_for(lambda r: len(r.delivered) == 2, timeout=10)
    sends = wait_until(lambda: control.calls(bot_id, "sendMessage"), message="the executed sendMessage")
    assert sends[0]["error_code"] == 400
    assert [update["message"]["text"] for update in receiver.attempts] == ["first", "second"]
    assert [m["text"] for m in control.messages(bot_id, 955)] == ["first", "second"]

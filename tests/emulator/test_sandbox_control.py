"""The control API: revocation, faults, rate limits, call log, validation and reset."""

import pytest
import requests
from telebot.apihelper import ApiTelegramException

pytestmark = pytest.mark.timeout(30)


def test_revoked_token_answers_401_to_every_method(make_bot, control, sandbox):
    bot, bot_id = make_bot()
    bot.get_me()

    assert control.post(f"/sandbox/bots/{bot_id}/revoke").status_code == 200
    with pytest.raises(ApiTelegramException) as error:
        bot.send_message(1, "hi")
    raw = requests.get(f"{sandbox.url}/bot{bot.token}/getUpdates", timeout=5)

    assert (error.value.error_code, error.value.description) == (401, "Unauthorized")
    assert (raw.status_code, raw.json()["description"]) == (401, "Unauthorized")
    assert [b["revoked"] for b in control.get("/sandbox/bots").json()["bots"]] == [True]


def test_revoking_an_unknown_bot_is_404(control):
    response = control.post("/sandbox/bots/123456/revoke")

    assert response.status_code == 404
    assert response.json()["error_code"] == 404


def test_faults_fail_the_next_count_calls_then_stop(make_bot, control):
    bot, bot_id = make_bot()
    control.post("/sandbox/faults", {"bot_id": bot_id, "method": "sendMessage",
                                     "error_code": 403, "count": 2})

    errors = []
    for _ in range(2):
        with pytest.raises(ApiTelegramException) as error:
            bot.send_message(5, "hi")
        errors.append((error.value.error_code, error.value.description))

    assert errors == [(403, "Forbidden: bot was blocked by the user")] * 2
    assert bot.send_message(5, "hi").text == "hi"
    assert bot.get_me().id == bot_id


def test_a_429_fault_carries_retry_after(make_bot, control, sandbox):
    bot, bot_id = make_bot()
    control.post("/sandbox/faults", {"bot_id": bot_id, "method": "getme", "error_code": 429,
                                     "retry_after": 7, "count": 1, "description": "Slow down"})

    response = requests.get(f"{sandbox.url}/bot{bot.token}/getMe", timeout=5)

    assert response.status_code == 429
    assert response.json() == {"ok": False, "error_code": 429, "description": "Slow down",
                               "parameters": {"retry_after": 7}}


def test_rate_limit_answers_429_with_retry_after_and_can_be_removed(make_bot, control):
    bot, bot_id = make_bot()
    control.post("/sandbox/rate-limit", {"bot_id": bot_id, "per_second": 3})

    for index in range(3):
        bot.send_message(5, f"broadcast {index}")
    with pytest.raises(ApiTelegramException) as error:
        bot.send_message(5, "one too many")
    bot.get_me()  # not a send, so never limited
    control.post("/sandbox/rate-limit", {"bot_id": bot_id, "per_second": None})

    assert error.value.error_code == 429
    assert error.value.result_json["parameters"]["retry_after"] >= 1
    assert bot.send_message(5, "after removal").text == "after removal"
    assert len(control.messages(bot_id, 5)) == 4


def test_call_log_lists_methods_and_params_without_the_token(make_bot, control):
    bot, bot_id = make_bot()
    bot.send_message(5, "logged")
    bot.set_webhook(f"http://127.0.0.1:9/hook/{bot.token}")

    calls = control.calls(bot_id)

    assert [c["method"] for c in calls] == ["sendMessage", "setWebhook"]
    assert calls[0]["params"] == {"chat_id": "5", "text": "logged"}
    assert bot.token not in str(calls) and "<token>" in calls[1]["params"]["url"]
    assert all(isinstance(c["at"], float) for c in calls)


def test_call_log_narrows_by_method_and_time(make_bot, control):
    bot, bot_id = make_bot()
    bot.send_message(5, "before")
    bot.get_me()
    middle = control.calls(bot_id)[-1]["at"]
    bot.send_message(5, "after", reply_markup=None)
    bot.get_me()

    def listed(**params):
        response = control.get("/sandbox/calls", bot_id=bot_id, **params)
        assert response.status_code == 200
        return [(c["method"], c["params"].get("text")) for c in response.json()["calls"]]

    assert listed(method="SENDMESSAGE") == [("sendMessage", "before"), ("sendMessage", "after")]
    assert listed(since=middle) == [("getMe", None), ("sendMessage", "after"), ("getMe", None)]
    assert listed(since=middle, method="sendMessage") == [("sendMessage", "after")]
    assert listed(since=middle + 3600) == []
    assert control.get("/sandbox/calls", since="yesterday").status_code == 400


@pytest.mark.parametrize("body, fragment", [
    ({"from": {"id": 1, "first_name": "A"}, "text": "hi"}, '"bot_id"'),
    ({"bot_id": "seven", "from": {"id": 1}, "text": "hi"}, '"bot_id"'),
    ({"bot_id": "BOT", "text": "hi"}, '"from"'),
    ({"bot_id": "BOT", "from": {"id": 1}}, "exactly one of"),
    ({"bot_id": "BOT", "from": {"id": 1}, "text": "hi", "photo": "aGk="}, "exactly one of"),
    ({"bot_id": "BOT", "from": {"id": 1}, "photo": "***"}, "base64"),
    ({"bot_id": "BOT", "from": {"id": 1}, "callback": {"message_id": 99, "data": "x"}},
     "no bot message"),
    ([1, 2], "JSON object"),
])
def test_malformed_update_bodies_are_400(make_bot, control, body, fragment):
    _, bot_id = make_bot()
    if isinstance(body, dict) and body.get("bot_id") == "BOT":
        body = {**body, "bot_id": bot_id}

    response = control.post("/sandbox/updates", body)

    assert response.status_code == 400
    assert fragment in response.json()["description"]


def test_update_for_an_unknown_bot_is_404(control):
    response = control.post("/sandbox/updates", {"bot_id": 99, "from": {"id": 1}, "text": "hi"})

    assert response.status_code == 404
    assert response.json()["description"] == "unknown bot_id 99"


@pytest.mark.parametrize("path, body", [
    ("/sandbox/bots", {"token": "no-colon"}),
    ("/sandbox/faults", {"bot_id": 1, "method": "sendMessage"}),
    ("/sandbox/faults", {"bot_id": 1, "method": "", "error_code": 400}),
    ("/sandbox/rate-limit", {"bot_id": 1}),
    ("/sandbox/rate-limit", {"bot_id": 1, "per_second": -2}),
])
def test_malformed_control_bodies_are_400(control, path, body):
    response = control.post(path, body)

    assert response.status_code == 400
    assert response.json()["ok"] is False and response.json()["description"]


def test_chat_log_needs_a_known_bot(control):
    assert control.get("/sandbox/chats/5/messages").status_code == 400
    assert control.get("/sandbox/chats/5/messages", bot_id=404).status_code == 404


def test_reset_empties_bots_chats_and_logs(make_bot, control, sandbox):
    bot, bot_id = make_bot()
    bot.send_message(5, "before")
    control.user_says(bot_id, 5, "pending")

    assert control.post("/sandbox/reset").status_code == 200

    assert control.get("/sandbox/bots").json() == {"bots": []}
    assert control.get("/sandbox/calls").json() == {"calls": []}
    updates = requests.get(f"{sandbox.url}/bot{bot.token}/getUpdates", timeout=5).json()
    assert updates == {"ok": True, "result": []}
    assert control.messages(bot_id, 5) == []


def test_a_different_secret_for_a_known_bot_is_unauthorized(make_bot, sandbox):
    bot, bot_id = make_bot()
    bot.get_me()

    response = requests.get(f"{sandbox.url}/bot{bot_id}:wrong-secret/getMe", timeout=5)

    assert (response.status_code, response.json()["description"]) == (401, "Unauthorized")


def test_access_log_masks_the_token(make_bot, caplog):
    bot, bot_id = make_bot()
    secret = bot.token.split(":")[1]

    with caplog.at_level("INFO", logger="werkzeug"):
        bot.get_me()

    assert f"/bot{bot_id}:***/getMe" in caplog.text
    assert secret not in caplog.text


def test_a_user_blocks_and_unblocks_the_bot(make_bot, control):
    bot, bot_id = make_bot()
    bot.get_me()
    bot.send_message(5, "hi")  # the user's chat is known (they wrote to the bot)

    first = control.post("/sandbox/users/5/block", {"bot_id": bot_id}).json()
    again = control.post("/sandbox/users/5/block", {"bot_id": bot_id}).json()
    with pytest.raises(ApiTelegramException) as error:
        bot.send_message(5, "hi")
    [update] = bot.get_updates(timeout=0)

    assert first["changed"] and not again["changed"]
    assert (error.value.error_code, error.value.description) == (403, "Forbidden: bot was blocked by the user")
    change = update.my_chat_member
    assert (change.chat.id, change.chat.type, change.from_user.id) == (5, "private", 5)
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert change.new_chat_member.user.id == bot_id

    control.post("/sandbox/users/5/unblock", {"bot_id": bot_id})
    [update] = bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert (update.my_chat_member.old_chat_member.status, update.my_chat_member.new_chat_member.status) == \
        ("kicked", "member")
    assert bot.send_message(5, "back").text == "back"


def test_blocking_needs_a_known_bot_and_a_user(make_bot, control):
    _, bot_id = make_bot()
    assert control.post("/sandbox/users/5/block", {"bot_id": 999}).status_code == 404
    assert control.post("/sandbox/users/5/block", {}).status_code == 400

"""The control side: /sandbox/... endpoints for people, tests and benchmarks."""

from . import inline
from .botapi import json_response
from .errors import ApiError, ControlError
from .inbound import post_update
from .limits import Fault


def control_error_response(error):
    """Return the JSON error body of a control request."""
    return json_response({"ok": False, "error_code": error.status,
                          "description": error.description, **error.extra}, error.status)


def json_body(request):
    """Return the request's JSON object body, or raise 400."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ControlError(400, "request body must be a JSON object")
    return body


def int_value(value, name, required=True):
    """Return an integer from a body or query value, or raise 400."""
    if value in (None, "") and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ControlError(400, f'"{name}" must be an integer')
    try:
        return int(value)
    except ValueError:
        raise ControlError(400, f'"{name}" must be an integer') from None


def register_bot(sandbox, request):
    """POST /sandbox/bots {"token", "username"?, "first_name"?}."""
    body = json_body(request)
    try:
        with sandbox.state.lock:
            bot = sandbox.state.register_bot(str(body.get("token") or ""), body.get("username"),
                                             body.get("first_name"))
            return json_response({"id": bot.id, "username": bot.username}, 201)
    except ApiError:
        raise ControlError(400, '"token" must look like <digits>:<secret>') from None


def list_bots(sandbox, request):
    """GET /sandbox/bots."""
    with sandbox.state.lock:
        return json_response({"bots": [bot.summary() for bot in sandbox.state.bots.values()]})


def revoke_bot(sandbox, request, bot_id):
    """POST /sandbox/bots/<bot_id>/revoke."""
    with sandbox.state.lock:
        sandbox.state.revoke(sandbox.state.find_bot(bot_id))
    return json_response({"ok": True})


def send_update(sandbox, request):
    """POST /sandbox/updates: a user writes, sends a photo or document, or taps a button."""
    body = json_body(request)
    with sandbox.state.lock:
        return json_response(post_update(sandbox.state, body))


def chat_messages(sandbox, request, chat_id):
    """GET /sandbox/chats/<chat_id>/messages?bot_id=."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        chat = sandbox.state.find_bot(bot_id).chats.get(chat_id)
        return json_response({"messages": chat.log_entries() if chat else []})


def callback_answers(sandbox, request):
    """GET /sandbox/callback-answers?bot_id= (all bots when bot_id is absent)."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id", required=False)
    with sandbox.state.lock:
        answers = _for_bot(sandbox.state.callback_answers, bot_id)
        return json_response({"answers": answers})


def calls(sandbox, request):
    """GET /sandbox/calls?bot_id= (all bots when bot_id is absent).

    Beyond the contract, for benches counting calls in a log of 100,000: `method=` (any case) and
    `since=` (a Unix time: calls at or after it) narrow the list. The log is copied under the lock
    and encoded outside it (entries are final once their call answered), so a big listing does not
    hold up the Bot API.
    """
    bot_id = int_value(request.args.get("bot_id"), "bot_id", required=False)
    method = (request.args.get("method") or "").lower() or None
    since = _since(request.args.get("since"))
    with sandbox.state.lock:
        logged = list(sandbox.state.calls)
    if since is not None:
        logged = logged[_first_at_or_after(logged, since):]
    chosen = [entry for entry in logged if (bot_id is None or entry["bot_id"] == bot_id)
              and (method is None or entry["method"].lower() == method)]
    return json_response({"calls": chosen})


def _since(value):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ControlError(400, '"since" must be a Unix time') from None


def _first_at_or_after(entries, since):
    """Index of the first entry logged at or after `since` (the log is in time order)."""
    low, high = 0, len(entries)
    while low < high:
        middle = (low + high) // 2
        if entries[middle]["at"] < since:
            low = middle + 1
        else:
            high = middle
    return low


def _for_bot(entries, bot_id):
    return [entry for entry in entries if bot_id is None or entry["bot_id"] == bot_id]


def add_fault(sandbox, request):
    """POST /sandbox/faults: the next `count` calls of a method fail with error_code."""
    body = json_body(request)
    bot_id = int_value(body.get("bot_id"), "bot_id")
    method = body.get("method")
    if not isinstance(method, str) or not method:
        raise ControlError(400, '"method" must be a Bot API method name')
    fault = Fault(error_code=_error_code(body), description=_optional_str(body, "description"),
                  retry_after=int_value(body.get("retry_after"), "retry_after", required=False),
                  remaining=_count(body))
    with sandbox.state.lock:
        sandbox.state.arm_fault(bot_id, method, fault)
    return json_response({"ok": True})


def _error_code(body):
    code = int_value(body.get("error_code"), "error_code")
    if not 400 <= code <= 599:
        raise ControlError(400, '"error_code" must be an HTTP error status (400-599)')
    return code


def _count(body):
    count = int_value(body.get("count", 1), "count")
    if count < 1:
        raise ControlError(400, '"count" must be at least 1')
    return count


def _optional_str(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f'"{name}" must be a string')
    return value


def set_rate_limit(sandbox, request):
    """POST /sandbox/rate-limit {"bot_id", "per_second"} (null removes the limit)."""
    body = json_body(request)
    bot_id = int_value(body.get("bot_id"), "bot_id")
    if "per_second" not in body:
        raise ControlError(400, '"per_second" is required (a number, or null to remove)')
    per_second = body["per_second"]
    if per_second is not None and (isinstance(per_second, bool)
                                   or not isinstance(per_second, (int, float)) or per_second <= 0):
        raise ControlError(400, '"per_second" must be a positive number or null')
    with sandbox.state.lock:
        sandbox.state.set_rate_limit(bot_id, per_second)
    return json_response({"ok": True})


def reset(sandbox, request):
    """POST /sandbox/reset: forget every bot, chat, file and log."""
    with sandbox.state.lock:
        sandbox.state.reset()
    return json_response({"ok": True})


def set_latency(sandbox, request):
    """POST /sandbox/latency {"ms", "bot_id"?}: Bot API calls answer that much later (0 removes)."""
    body = json_body(request)
    ms = int_value(body.get("ms"), "ms")
    if not 0 <= ms <= 60_000:
        raise ControlError(400, '"ms" must be between 0 and 60000')
    bot_id = int_value(body.get("bot_id"), "bot_id", required=False)
    with sandbox.state.lock:
        if ms:
            sandbox.state.latency[bot_id] = ms
        else:
            sandbox.state.latency.pop(bot_id, None)
    return json_response({"ok": True})


def webhook_deliveries(sandbox, request):
    """GET /sandbox/webhook-deliveries?bot_id=: attempts, last status and next retry per update."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        bot = sandbox.state.find_bot(bot_id)
        deliveries = [delivery.to_json() for delivery in bot.deliveries.values()]
    return json_response({"deliveries": deliveries})


def set_webhook_retention(sandbox, request):
    """POST /sandbox/webhook-retention {"seconds"}: how long an undelivered update is kept.

    Telegram keeps one about a day; tests shorten it. {"seconds": null} restores the default.
    """
    body = json_body(request)
    if "seconds" not in body:
        raise ControlError(400, '"seconds" is required (a number, or null for the default)')
    seconds = body["seconds"]
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or seconds < 0):
        raise ControlError(400, '"seconds" must be a non-negative number or null')
    with sandbox.state.lock:
        sandbox.state.webhook_retention = seconds
        sandbox.webhooks.wake_all()  # an update waiting for its retry may be too old now
    return json_response({"ok": True})


def inline_messages(sandbox, request):
    """GET /sandbox/inline-messages?bot_id=: messages sent via inline mode, as edited."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        return json_response({"messages": inline.listing(sandbox.state, bot_id)})

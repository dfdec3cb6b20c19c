"""Bot API methods about the bot itself and how it receives updates."""

import re
import time
from urllib.parse import urlparse

from .errors import ApiError, bad_request
from .state import Webhook

MAX_LONG_POLL_SECONDS = 50
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
POLLING_CONFLICT = ("Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running")
WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")


def get_me(call):
    """getMe: the bot as a User, with the capability flags Telegram adds."""
    return {**call.bot.user(), "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


def get_updates(call):
    """getUpdates: confirm by offset, then answer at once or long-poll up to `timeout`."""
    bot = call.bot
    if bot.webhook:
        raise ApiError(409, WEBHOOK_CONFLICT)
    if bot.polling:
        raise ApiError(409, POLLING_CONFLICT)
    if isinstance(call.params.get("allowed_updates"), list):
        bot.allowed_updates = call.params["allowed_updates"]
    bot.confirm(call.int("offset", 0))
    limit = min(max(call.int("limit", 100), 1), 100)
    timeout = min(max(call.number("timeout", 0), 0), MAX_LONG_POLL_SECONDS)
    bot.polling = True
    try:
        return _wait_for_updates(call, limit, time.monotonic() + timeout)
    finally:
        bot.polling = False


def _wait_for_updates(call, limit, deadline):
    bot = call.bot
    while True:
        ready = bot.deliverable(limit, bot.allowed_updates)
        if ready or bot.detached or bot.revoked or bot.webhook or call.state.closed:
            return ready
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        # Condition.wait releases the sandbox lock while this poll sleeps.
        bot.changed.wait(remaining)


def set_webhook(call):
    """setWebhook: start delivering updates to a URL (an empty URL removes the webhook)."""
    url = call.str("url", "")
    if not url:
        return delete_webhook(call)
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise bad_request("invalid webhook URL specified")
    secret = call.str("secret_token")
    if secret is not None and not SECRET_TOKEN_PATTERN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = call.params.get("allowed_updates")
    call.bot.webhook = Webhook(url=url, secret_token=secret,
                               allowed_updates=allowed if isinstance(allowed, list) else None,
                               max_connections=call.int("max_connections", 40))
    _drop_pending_if_asked(call)
    call.bot.changed.notify_all()
    call.sandbox.webhooks.ensure_worker(call.bot)
    return True


def delete_webhook(call):
    """deleteWebhook: go back to getUpdates, optionally dropping pending updates."""
    call.bot.webhook = None
    _drop_pending_if_asked(call)
    call.bot.changed.notify_all()
    return True


def _drop_pending_if_asked(call):
    if call.bool("drop_pending_updates"):
        call.bot.updates = []


def get_webhook_info(call):
    """getWebhookInfo: the webhook and how many updates wait for it."""
    hook = call.bot.webhook
    info = {"url": hook.url if hook else "", "has_custom_certificate": False,
            "pending_update_count": len(call.bot.updates)}
    if hook:
        info["max_connections"] = hook.max_connections
        optional = {"allowed_updates": hook.allowed_updates,
                    "last_error_date": hook.last_error_date,
                    "last_error_message": hook.last_error_message}
        info.update({key: value for key, value in optional.items() if value is not None})
    return info


def accept(call):
    """Methods the sandbox accepts without keeping anything (setMyCommands, sendChatAction...)."""
    return True


def get_my_commands(call):
    """getMyCommands: the sandbox keeps no command list."""
    return []

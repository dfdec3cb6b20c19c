"""Bot API methods about the bot itself and how it receives updates."""

import re
import time
from urllib.parse import urlparse

from .errors import ApiError, bad_request
from .state import Webhook

MAX_LONG_POLL_SECONDS = 50
WEBHOOK_PORTS = (443, 80, 88, 8443)
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
    """getUpdates: confirm by offset, then answer at once or long-poll up to `timeout`.

    Like Telegram, a new getUpdates ends a request still waiting (it answers 409) and is served.
    """
    bot = call.bot
    if bot.webhook:
        raise ApiError(409, WEBHOOK_CONFLICT)
    _remember_allowed_updates(call)
    bot.confirm(call.int("offset", 0))
    limit = min(max(call.int("limit", 100), 1), 100)
    timeout = min(max(call.number("timeout", 0), 0), MAX_LONG_POLL_SECONDS)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.polling = True
    bot.changed.notify_all()
    try:
        return _wait_for_updates(call, limit, time.monotonic() + timeout, generation)
    finally:
        if bot.poll_generation == generation:
            bot.polling = False


def _wait_for_updates(call, limit, deadline, generation):
    bot = call.bot
    while True:
        if bot.poll_generation != generation:
            raise ApiError(409, POLLING_CONFLICT)
        ready = bot.deliverable(limit, bot.allowed_updates)
        if ready or bot.detached or bot.revoked or bot.webhook or call.state.closed:
            return ready
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        # Condition.wait releases the sandbox lock while this poll sleeps.
        bot.changed.wait(remaining)


def _remember_allowed_updates(call):
    """Keep a new allowed_updates list; without one Telegram keeps the previous setting."""
    allowed = call.params.get("allowed_updates")
    if isinstance(allowed, list):
        call.bot.allowed_updates = allowed


def set_webhook(call):
    """setWebhook: start delivering updates to a URL (an empty URL removes the webhook)."""
    url = call.str("url", "")
    if not url:
        return delete_webhook(call)
    _check_webhook_url(url, call.sandbox.allow_http_webhooks)
    secret = call.str("secret_token")
    if secret is not None and not SECRET_TOKEN_PATTERN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    _remember_allowed_updates(call)
    call.bot.webhook = Webhook(url=url, secret_token=secret,
                               max_connections=call.int("max_connections", 40))
    _drop_pending_if_asked(call)
    call.bot.changed.notify_all()
    call.sandbox.webhooks.ensure_worker(call.bot)
    return True


def _check_webhook_url(url, allow_http):
    """Refuse what Telegram refuses: not HTTPS, or a port other than 443, 80, 88 and 8443.

    With allow_http (SANDBOX_ALLOW_HTTP_WEBHOOKS, for local runs and tests) any http(s) URL on
    any port is accepted.
    """
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    if allow_http:
        return
    if parts.scheme != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port not in (None, *WEBHOOK_PORTS):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def delete_webhook(call):
    """deleteWebhook: go back to getUpdates, optionally dropping pending updates."""
    call.bot.webhook = None
    _drop_pending_if_asked(call)
    call.bot.changed.notify_all()
    return True


def _drop_pending_if_asked(call):
    if call.bool("drop_pending_updates"):
        call.bot.updates = []
        call.bot.queued_at.clear()


def get_webhook_info(call):
    """getWebhookInfo: the webhook and how many updates wait for it."""
    hook = call.bot.webhook
    info = {"url": hook.url if hook else "", "has_custom_certificate": False,
            "pending_update_count": len(call.bot.updates)}
    if hook:
        info["max_connections"] = hook.max_connections
        optional = {"allowed_updates": call.bot.allowed_updates,
                    "last_error_date": hook.last_error_date,
                    "last_error_message": hook.last_error_message}
        info.update({key: value for key, value in optional.items() if value is not None})
    return info


def accept(call):
    """Methods the sandbox accepts without keeping anything (sendChatAction...)."""
    return True

"""The sandbox WSGI application: URL rules and dispatch."""

import os

from werkzeug import Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from . import botapi, control, control_chats, control_payments, panels, zarinpal
from .errors import ApiError, ControlError
from .state import SandboxState
from .webhooks import WebhookDispatcher

ALLOW_HTTP_ENV = "SANDBOX_ALLOW_HTTP_WEBHOOKS"

URL_MAP = Map([
    Rule("/bot<token>/<method>", endpoint=botapi.handle_method, methods=["GET", "POST"]),
    Rule("/file/bot<token>/<path:file_path>", endpoint=botapi.handle_file, methods=["GET"]),
    Rule("/sandbox/bots", endpoint=control.register_bot, methods=["POST"]),
    Rule("/sandbox/bots", endpoint=control.list_bots, methods=["GET"]),
    Rule("/sandbox/bots/<int:bot_id>/revoke", endpoint=control.revoke_bot, methods=["POST"]),
    Rule("/sandbox/updates", endpoint=control.send_update, methods=["POST"]),
    Rule("/sandbox/chats/<int(signed=True):chat_id>/messages", endpoint=control.chat_messages,
         methods=["GET"]),
    Rule("/sandbox/callback-answers", endpoint=control.callback_answers, methods=["GET"]),
    Rule("/sandbox/calls", endpoint=control.calls, methods=["GET"]),
    Rule("/sandbox/faults", endpoint=control.add_fault, methods=["POST"]),
    Rule("/sandbox/rate-limit", endpoint=control.set_rate_limit, methods=["POST"]),
    Rule("/sandbox/reset", endpoint=control.reset, methods=["POST"]),
    Rule("/sandbox/chats", endpoint=control_chats.register_chat, methods=["POST"]),
    Rule("/sandbox/chats/<int(signed=True):chat_id>/members", endpoint=control_chats.chat_members,
         methods=["GET"]),
    Rule("/sandbox/chats/<int(signed=True):chat_id>/join", endpoint=control_chats.join_chat,
         methods=["POST"]),
    Rule("/sandbox/chats/<int(signed=True):chat_id>/leave", endpoint=control_chats.leave_chat,
         methods=["POST"]),
    Rule("/sandbox/users/<int:user_id>/block", endpoint=control_chats.block_bot, methods=["POST"]),
    Rule("/sandbox/users/<int:user_id>/unblock", endpoint=control_chats.unblock_bot, methods=["POST"]),
    Rule("/sandbox/invoices", endpoint=control_payments.invoices, methods=["GET"]),
    Rule("/sandbox/invoices/<slug>/pay", endpoint=control_payments.pay, methods=["POST"]),
    Rule("/sandbox/payments", endpoint=control_payments.payments, methods=["GET"]),
    Rule("/sandbox/star-subscriptions", endpoint=control_payments.subscriptions, methods=["GET"]),
    Rule("/sandbox/star-subscriptions/<charge_id>/renew",
         endpoint=control_payments.renew_subscription, methods=["POST"]),
    Rule("/sandbox/star-subscriptions/<charge_id>/cancel",
         endpoint=control_payments.cancel_subscription, methods=["POST"]),
    Rule("/sandbox/inline-messages", endpoint=control.inline_messages, methods=["GET"]),
    Rule("/sandbox/latency", endpoint=control.set_latency, methods=["POST"]),
    Rule("/sandbox/webhook-deliveries", endpoint=control.webhook_deliveries, methods=["GET"]),
    Rule("/sandbox/webhook-retention", endpoint=control.set_webhook_retention, methods=["POST"]),
    *panels.RULES,  # the VPN panel emulators and their controls (bots/emulator/panels)
    *zarinpal.RULES,  # the Zarinpal gateway and its controls (bots/emulator/zarinpal.py)
], strict_slashes=False)


class SandboxApp:
    """A WSGI app holding one sandbox's state and its webhook workers.

    allow_http_webhooks: accept http:// webhooks on any port (Telegram wants HTTPS on 443, 80, 88
    or 8443); None reads the SANDBOX_ALLOW_HTTP_WEBHOOKS environment variable (1/true/yes).
    """

    def __init__(self, retry_policy=None, allow_http_webhooks=None):
        self.state = SandboxState()
        self.panels = panels.PanelEmulators()
        self.zarinpal = zarinpal.ZarinpalSandbox()
        self.webhooks = WebhookDispatcher(self.state, retry_policy, self.execute_webhook_reply)
        if allow_http_webhooks is None:
            allow_http_webhooks = http_webhooks_allowed_by_env()
        self.allow_http_webhooks = allow_http_webhooks

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request):
        """Route a request to its endpoint and turn errors into JSON answers."""
        try:
            endpoint, arguments = _match(request)
            return endpoint(self, request, **arguments)
        except ControlError as error:
            return control.control_error_response(error)
        except HTTPException as error:
            description = "Not Found" if error.code == 404 else error.name
            return botapi.error_response(ApiError(error.code, description))

    def execute_webhook_reply(self, bot, body):
        """Run the Bot API method a webhook put in its answer, as Telegram does."""
        botapi.call_method(self, bot.token, body["method"], body)

    def close(self):
        """Release long-polls and stop webhook delivery."""
        with self.state.lock:
            self.state.close()
        self.webhooks.close()


def _match(request):
    """Return (endpoint, arguments): Bot API calls by a plain split (they are nearly every request,
    and binding the URL map costs more than the call itself), everything else by the URL map."""
    path = request.environ.get("PATH_INFO", "")
    if path.startswith("/bot") and request.method in ("GET", "POST"):
        token, slash, method = path[4:].partition("/")
        if token and method and "/" not in method:
            return botapi.handle_method, {"token": token, "method": method}
    return URL_MAP.bind_to_environ(request.environ).match()


def http_webhooks_allowed_by_env():
    """Tell whether SANDBOX_ALLOW_HTTP_WEBHOOKS asks for http:// webhooks on any port."""
    return os.environ.get(ALLOW_HTTP_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def create_sandbox_app(retry_policy=None, allow_http_webhooks=None):
    """Return a new, empty sandbox WSGI app (no threads start until a webhook is set)."""
    return SandboxApp(retry_policy, allow_http_webhooks)

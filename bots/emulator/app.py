"""The sandbox WSGI application: URL rules and dispatch."""

from werkzeug import Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from . import botapi, control, panels, zarinpal
from .errors import ApiError, ControlError
from .state import SandboxState
from .webhooks import WebhookDispatcher

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
    *panels.RULES,  # the VPN panel emulators and their controls (bots/emulator/panels)
    *zarinpal.RULES,  # the Zarinpal gateway and its controls (bots/emulator/zarinpal.py)
], strict_slashes=False)


class SandboxApp:
    """A WSGI app holding one sandbox's state and its webhook workers."""

    def __init__(self, retry_policy=None):
        self.state = SandboxState()
        self.panels = panels.PanelEmulators()
        self.webhooks = WebhookDispatcher(self.state, retry_policy)
        self.zarinpal = zarinpal.ZarinpalSandbox()

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request):
        """Route a request to its endpoint and turn errors into JSON answers."""
        adapter = URL_MAP.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
            return endpoint(self, request, **arguments)
        except ControlError as error:
            return control.control_error_response(error)
        except HTTPException as error:
            description = "Not Found" if error.code == 404 else error.name
            return botapi.error_response(ApiError(error.code, description))

    def close(self):
        """Release long-polls and stop webhook delivery."""
        with self.state.lock:
            self.state.close()
        self.webhooks.close()


def create_sandbox_app(retry_policy=None):
    """Return a new, empty sandbox WSGI app (no threads start until a webhook is set)."""
    return SandboxApp(retry_policy)

"""Serving the sandbox over real HTTP: in a background thread, or in the foreground for a CLI."""

import logging
import re
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_sandbox_app

log = logging.getLogger(__name__)

DEFAULT_PORT = 8081
TOKEN_IN_PATH = re.compile(r"/bot(\d+):[^/\s]+")
#: setWebhook's secret_token travels in the query string (pyTelegramBotAPI sends parameters there).
SECRET_IN_QUERY = re.compile(r"(secret_token=)[^&\s]+")
#: How often the serving loop checks for shutdown; short so stop() is quick.
POLL_INTERVAL = 0.05


class TokenMaskingRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, with bot tokens masked in the access log."""

    def log(self, type, message, *args):
        """Log like werkzeug, but never print a token's secret or a webhook's secret_token."""
        masked = tuple(SECRET_IN_QUERY.sub(r"\1***", TOKEN_IN_PATH.sub(r"/bot\1:***", arg))
                       if isinstance(arg, str) else arg for arg in args)
        super().log(type, message, *masked)


class SandboxServer:
    """The sandbox on a real port, served from a daemon thread."""

    def __init__(self, host="127.0.0.1", port=0, app=None, retry_policy=None,
                 allow_http_webhooks=None):
        self.host = host
        self.port = port
        self.app = app or create_sandbox_app(retry_policy, allow_http_webhooks)
        self._server = None
        self._thread = None

    @property
    def url(self):
        """Return the base URL, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("SandboxServer is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self):
        """Bind the port and serve in a daemon thread; return self."""
        self._server = make_server(self.host, self.port, self.app, threaded=True,
                                   request_handler=TokenMaskingRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_INTERVAL,),
                                        daemon=True, name="telegram-sandbox")
        self._thread.start()
        return self

    def stop(self):
        """Release waiting requests, stop webhook delivery and close the port."""
        if self._server is None:
            return
        self.app.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def serve_forever(host="127.0.0.1", port=DEFAULT_PORT, allow_http_webhooks=None):
    """Serve the sandbox in the foreground until interrupted."""
    app = create_sandbox_app(allow_http_webhooks=allow_http_webhooks)
    server = make_server(host, port, app, threaded=True,
                         request_handler=TokenMaskingRequestHandler)
    log.info("Telegram sandbox on http://%s:%s", host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        server.server_close()

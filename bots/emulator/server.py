"""Serving the sandbox over real HTTP: in a background thread, or in the foreground for a CLI."""

import io
import logging
import re
import socket
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

from .app import create_sandbox_app

log = logging.getLogger(__name__)

DEFAULT_PORT = 8081
TOKEN_IN_PATH = re.compile(r"/bot(\d+):[^/\s]+")
#: setWebhook's secret_token travels in the query string (pyTelegramBotAPI sends parameters there).
SECRET_IN_QUERY = re.compile(r"(secret_token=)[^&\s]+")
#: How often the serving loop checks for shutdown; short so stop() is quick.
POLL_INTERVAL = 0.05


#: Werkzeug's access log; werkzeug itself sets it to INFO at its first line when no level was set.
ACCESS_LOG = logging.getLogger("werkzeug")
#: Hop-by-hop headers the handler sets itself.
OWN_HEADERS = {"connection", "content-length", "transfer-encoding", "keep-alive"}


def access_log_enabled():
    """Tell whether werkzeug would write an access log line (so the line is worth formatting)."""
    if ACCESS_LOG.level == logging.NOTSET:
        return not ACCESS_LOG.manager.disable >= logging.INFO
    return ACCESS_LOG.isEnabledFor(logging.INFO)


class TokenMaskingRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, with bot tokens masked in the access log and HTTP/1.1 keep-alive.

    Werkzeug's development server closes every connection after one response, so each Bot API call
    cost a TCP connection and a new thread on both sides. Here a request with a Content-Length (or
    none at all) is answered on a connection that stays open: the body is read to its end whatever
    the app read, and the answer carries its Content-Length. A chunked request, or a client asking
    for `Connection: close`, still gets werkzeug's closing behaviour. An idle connection is closed
    after `timeout` seconds.
    """

    protocol_version = "HTTP/1.1"
    timeout = 75

    def setup(self):
        """Remember the connection, so the server can close idle keep-alive connections on stop."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connections = getattr(self.server, "open_connections", None)
        if connections is not None:
            connections.add(self.connection)

    def finish(self):
        """Forget the connection."""
        connections = getattr(self.server, "open_connections", None)
        if connections is not None:
            connections.discard(self.connection)
        super().finish()

    def run_wsgi(self):
        """Answer one request, keeping the connection open when its framing allows."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return super().run_wsgi()  # werkzeug dechunks it, then closes the connection
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return super().run_wsgi()
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        try:
            whole = self.rfile.read(length) if length > 0 else b""
        except (TimeoutError, ConnectionError) as error:
            self.close_connection = True
            return self.connection_dropped(error, environ)
        if len(whole) < length:
            # Cut short (the client closed, or was killed, before its last byte): never acted on, as a real
            # server drops it; logged for tests that prove where a message was lost (bots/committed_send.py).
            self.close_connection = True
            cut_short = getattr(self.server, "cut_short", None)
            if cut_short is not None:
                cut_short.append({"path": TOKEN_IN_PATH.sub(r"/bot\1", self.path), "body": whole, "at": time.time()})
            return None
        body = environ["wsgi.input"] = LimitedStream(io.BytesIO(whole), length)
        environ["wsgi.input_terminated"] = True
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: answer.setdefault("written", []).append(data)
        try:
            chunks = self.server.app(environ, start_response)
            try:
                data = b"".join([*answer.pop("written", []), *chunks])
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            body.exhaust()  # what the app left unread, so the next request starts where it should
        except (TimeoutError, ConnectionError) as error:
            self.close_connection = True
            return self.connection_dropped(error, environ)
        except Exception:
            self.close_connection = True
            self.log_error("sandbox error on %s %s", self.command, self.path)
            logging.getLogger(__name__).exception("sandbox request failed")
            answer = {"status": "500 INTERNAL SERVER ERROR", "headers": []}
            data = b""
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            if name.lower() not in OWN_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one send: two small writes on a kept-alive connection meet Nagle's
        # algorithm and the client's delayed ACK, ~40 ms per answer.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(data)
        self.flush_headers()

    #: (second, its HTTP date): formatting the Date header once a second, not per response.
    _date = (0, "")

    def date_time_string(self, timestamp=None):
        """The Date header's value, cached for the current second."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = int(time.time())
        second, text = TokenMaskingRequestHandler._date
        if second != now:
            text = super().date_time_string(now)
            TokenMaskingRequestHandler._date = (now, text)
        return text

    def log_request(self, code="-", size="-"):
        """Skip formatting an access log line nobody will see (per Bot API call, it adds up)."""
        if access_log_enabled():
            super().log_request(code, size)

    def log(self, type, message, *args):
        """Log like werkzeug, but never print a token's secret or a webhook's secret_token."""
        masked = tuple(SECRET_IN_QUERY.sub(r"\1***", TOKEN_IN_PATH.sub(r"/bot\1:***", arg))
                       if isinstance(arg, str) else arg for arg in args)
        super().log(type, message, *masked)


def make_sandbox_server(host, port, app):
    """Werkzeug's threaded server with the sandbox's request handler (one thread per connection)."""
    server = make_server(host, port, app, threaded=True, request_handler=TokenMaskingRequestHandler)
    server.open_connections = set()
    server.cut_short = []  # requests whose client went before their last byte (see run_wsgi)
    return server


def close_connections(server):
    """Close the keep-alive connections still open (their threads then end)."""
    for connection in list(server.open_connections):
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


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
    def cut_short(self):
        """The requests whose client went before their last byte: {"path" (token masked), "body", "at"}."""
        return list(self._server.cut_short) if self._server is not None else []

    @property
    def url(self):
        """Return the base URL, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("SandboxServer is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self):
        """Bind the port and serve in a daemon thread; return self."""
        self._server = make_sandbox_server(self.host, self.port, self.app)
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
        close_connections(self._server)
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
    server = make_sandbox_server(host, port, app)
    log.info("Telegram sandbox on http://%s:%s", host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        server.server_close()

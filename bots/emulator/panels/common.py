"""What the panel emulators share: JSON answers, fault controls, a URL map per panel."""

import json
import threading
import time

from werkzeug import Response
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map


def json_response(body, status=200, headers=None):
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


class Faults:
    """Fault controls of one emulated panel: down (502), unauthorized (401 to everything), slow."""

    def __init__(self):
        self.down = False
        self.unauthorized = False
        self.slow_ms = 0

    def set(self, body):
        self.down = bool(body.get("down", self.down))
        self.unauthorized = bool(body.get("unauthorized", self.unauthorized))
        self.slow_ms = max(0, int(body.get("slow_ms", self.slow_ms) or 0))
        return self.summary()

    def summary(self):
        return {"down": self.down, "unauthorized": self.unauthorized, "slow_ms": self.slow_ms}

    def answer(self):
        """Wait as slow as asked; the faulty answer, or None to carry on."""
        if self.slow_ms:
            time.sleep(self.slow_ms / 1000)
        if self.down:
            return Response("<html><body>502 Bad Gateway</body></html>", status=502, mimetype="text/html")
        if self.unauthorized:
            return json_response({"detail": "Not authenticated"}, 401)
        return None


class EmulatedPanel:
    """A panel's API under a URL prefix; subclasses give `url_map` and the endpoint methods.

    Endpoints are methods named in the rules; each gets (request, **arguments) and runs under `lock`.
    """

    url_map: Map

    def __init__(self):
        self.lock = threading.RLock()
        self.faults = Faults()
        #: Requests answered since start (benchmarks count the calls of a pass).
        self.requests = 0
        self.reset()

    def reset(self):
        raise NotImplementedError

    def handle(self, request, path, prefix):
        """Answer `path` (below the mount `prefix`) as the panel would."""
        self.requests += 1
        faulty = self.faults.answer()
        if faulty is not None:
            return faulty
        adapter = self.url_map.bind("sandbox", path_info="/" + path, url_scheme="http",
                                    default_method=request.method)
        try:
            endpoint, arguments = adapter.match(method=request.method)
        except NotFound:
            return self.not_found()
        except HTTPException as error:
            return json_response({"detail": error.name}, error.code)
        with self.lock:
            return getattr(self, endpoint)(request, base=request.host_url.rstrip("/") + prefix, **arguments)

    def not_found(self):
        return json_response({"detail": "Not Found"}, 404)

    # -- control (the sandbox's own API, not the panel's) ----------------------------------------

    def set_usage(self, username, used_bytes):
        """Make the panel report `used_bytes` for a user; False if there is no such user."""
        raise NotImplementedError

    def users_summary(self):
        raise NotImplementedError

    def seed(self, count, prefix, used_bytes):
        """Add `count` users named prefix0..prefixN-1 (for benchmarks)."""
        raise NotImplementedError


def body_json(request):
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


def now():
    return time.time()

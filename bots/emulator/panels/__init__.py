"""VPN panel emulators (Marzban, PasarGuard, Remnawave, 3x-ui), mounted in the sandbox under /panels/<kind>.

Each keeps its state in memory and has fault controls. Control endpoints (JSON):
- `POST /sandbox/panels/<kind>/faults` {"down"?, "unauthorized"?, "slow_ms"?} → the current faults
- `POST /sandbox/panels/<kind>/usage` {"username", "used_bytes"} → the panel reports that usage
- `GET /sandbox/panels/<kind>/users` → {"users": [{"username", "status", "used_bytes", "expire", "data_limit", ...}]}
- `POST /sandbox/panels/<kind>/seed` {"count", "prefix", "used_bytes"?} → adds users (benchmarks)
- `POST /sandbox/panels/<kind>/reset` → empty state, no faults
"""

from werkzeug.routing import Rule

from .common import json_response
from .marzban import MarzbanEmulator
from .remnawave import RemnawaveEmulator
from .xui import XuiEmulator

MAX_SEED = 200_000


class PanelEmulators:
    """One emulator per panel kind, each behind /panels/<kind>/."""

    def __init__(self):
        self.by_kind = {"marzban": MarzbanEmulator("marzban"), "pasarguard": MarzbanEmulator("pasarguard"),
                        "remnawave": RemnawaveEmulator(), "xui": XuiEmulator()}

    def find(self, kind):
        return self.by_kind.get(kind)


def _panel(sandbox, kind):
    return sandbox.panels.find(kind)


def serve(sandbox, request, kind, path=""):
    """/panels/<kind>/<path>: the emulated panel's own API."""
    panel = _panel(sandbox, kind)
    if panel is None:
        return json_response({"detail": "Not Found"}, 404)
    return panel.handle(request, path, f"/panels/{kind}")


def control(sandbox, request, kind, action):
    """/sandbox/panels/<kind>/<action>: faults, usage, users, seed, reset."""
    panel = _panel(sandbox, kind)
    handler = _CONTROLS.get((request.method, action))
    if panel is None or handler is None:
        return json_response({"ok": False, "description": "no such panel or control"}, 404)
    body = request.get_json(force=True, silent=True) if request.method == "POST" else {}
    if not isinstance(body, dict):
        return json_response({"ok": False, "description": "request body must be a JSON object"}, 400)
    try:
        with panel.lock:
            return handler(panel, body)
    except (TypeError, ValueError) as error:
        return json_response({"ok": False, "description": f"bad control body: {error}"}, 400)


def _faults(panel, body):
    return json_response(panel.faults.set(body))


def _usage(panel, body):
    if not panel.set_usage(str(body["username"]), int(body["used_bytes"])):
        return json_response({"ok": False, "description": "no such user"}, 404)
    return json_response({"ok": True})


def _users(panel, body):
    return json_response({"users": panel.users_summary()})


def _seed(panel, body):
    count = int(body["count"])
    if not 0 < count <= MAX_SEED:
        raise ValueError(f"count must be 1..{MAX_SEED}")
    panel.seed(count, str(body.get("prefix") or "seed"), int(body.get("used_bytes") or 0))
    return json_response({"ok": True, "count": count})


def _reset(panel, body):
    panel.reset()
    panel.faults.set({"down": False, "unauthorized": False, "slow_ms": 0})
    return json_response({"ok": True})


_CONTROLS = {("POST", "faults"): _faults, ("POST", "usage"): _usage, ("GET", "users"): _users,
             ("POST", "seed"): _seed, ("POST", "reset"): _reset}

RULES = [
    Rule("/panels/<kind>/", endpoint=serve, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    Rule("/panels/<kind>/<path:path>", endpoint=serve, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    Rule("/sandbox/panels/<kind>/<action>", endpoint=control, methods=["GET", "POST"]),
]

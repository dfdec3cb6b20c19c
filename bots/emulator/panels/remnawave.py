"""Remnawave's user API (backend contract 2.x: libs/contract/api/controllers/users.ts and
commands/users/*). The API token is `sandbox-remnawave-token`; squads are any UUIDs.
"""

import secrets
import uuid
from datetime import UTC, datetime

from werkzeug.routing import Map, Rule

from .common import EmulatedPanel, body_json, json_response, now

TOKEN = "sandbox-remnawave-token"
MAX_PAGE = 1000


class RemnawaveEmulator(EmulatedPanel):
    url_map = Map([
        Rule("/api/users", endpoint="create", methods=["POST"]),
        Rule("/api/users", endpoint="update", methods=["PATCH"]),
        Rule("/api/users", endpoint="list_users", methods=["GET"]),
        Rule("/api/users/by-username/<username>", endpoint="by_username", methods=["GET"]),
        Rule("/api/users/<user_uuid>", endpoint="by_uuid", methods=["GET"]),
        Rule("/api/users/<user_uuid>", endpoint="delete", methods=["DELETE"]),
        Rule("/api/users/<user_uuid>/actions/<action>", endpoint="action", methods=["POST"]),
    ], strict_slashes=False)

    def reset(self):
        self.users = {}

    def create(self, request, base):
        body = body_json(request) or {}
        problem = self._denied(request) or self._invalid_create(body)
        if problem:
            return problem
        if any(u["username"] == body["username"] for u in self.users.values()):
            return _error(400, "User username already exists", "A019")
        user = self._new_user(body["username"], body)
        self.users[user["uuid"]] = user
        return json_response({"response": self._view(user, base)}, 201)

    def update(self, request, base):
        body = body_json(request) or {}
        denied = self._denied(request)
        if denied:
            return denied
        user = self.users.get(body.get("uuid")) or self._find(body.get("username"))
        if user is None:
            return _error(404, "User not found", "A063")
        if body.get("status") not in (None, "ACTIVE", "DISABLED"):
            return _error(400, "You can't change status to LIMITED or EXPIRED.", "VALIDATION")
        if body.get("expireAt") is not None:
            expire = _parse(body["expireAt"])
            if expire is None or expire <= now():
                return _error(400, "Expiration date cannot be in the past", "VALIDATION")
            user["expireAt"] = expire
        for field in ("status", "trafficLimitBytes", "activeInternalSquads"):
            if body.get(field) is not None:
                user[field] = body[field]
        return json_response({"response": self._view(user, base)})

    def list_users(self, request, base):
        denied = self._denied(request)
        if denied:
            return denied
        start, size = int(request.args.get("start") or 0), int(request.args.get("size") or 25)
        if not 1 <= size <= MAX_PAGE:
            return _error(400, "Size (limit) must be less than 1000", "VALIDATION")
        users = sorted(self.users.values(), key=lambda u: u["id"])
        page = [self._view(u, base) for u in users[start:start + size]]
        return json_response({"response": {"users": page, "total": len(users)}})

    def by_username(self, request, base, username):
        return self._denied(request) or self._answer(self._find(username), base)

    def by_uuid(self, request, base, user_uuid):
        return self._denied(request) or self._answer(self.users.get(user_uuid), base)

    def delete(self, request, base, user_uuid):
        denied = self._denied(request)
        if denied:
            return denied
        if self.users.pop(user_uuid, None) is None:
            return _error(404, "User not found", "A063")
        return json_response({"response": {"isDeleted": True}})

    def action(self, request, base, user_uuid, action):
        denied = self._denied(request)
        if denied:
            return denied
        user = self.users.get(user_uuid)
        if user is None or action not in ("enable", "disable", "revoke", "reset-traffic"):
            return _error(404, "User not found" if user is None else "Not Found", "A063")
        if action in ("enable", "disable"):
            user["status"] = "ACTIVE" if action == "enable" else "DISABLED"
        elif action == "revoke":
            user.update(shortUuid=secrets.token_hex(8), vlessUuid=str(uuid.uuid4()))
        else:
            user["used"] = 0
        return json_response({"response": self._view(user, base)})

    # -- control ----------------------------------------------------------------------------------

    def set_usage(self, username, used_bytes):
        user = self._find(username)
        if user is None:
            return False
        user["used"] = int(used_bytes)
        return True

    def users_summary(self):
        return [{"username": u["username"], "status": _status(u).lower(), "used_bytes": u["used"],
                 "expire": int(u["expireAt"]), "data_limit": u["trafficLimitBytes"],
                 "squads": list(u["activeInternalSquads"])} for u in self.users.values()]

    def seed(self, count, prefix, used_bytes):
        far = datetime(2099, 1, 1, tzinfo=UTC).isoformat()
        for i in range(count):
            user = self._new_user(f"{prefix}{i}", {"expireAt": far})
            user["used"] = used_bytes
            self.users[user["uuid"]] = user

    # -- helpers --------------------------------------------------------------------------------

    def _denied(self, request):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "Unauthorized", "UNAUTHORIZED")
        return None

    def _invalid_create(self, body):
        name = str(body.get("username") or "")
        if not 3 <= len(name) <= 36 or not name.replace("_", "").replace("-", "").isalnum():
            return _error(400, "Username can only contain letters, numbers, underscores and dashes", "VALIDATION")
        if _parse(body.get("expireAt")) is None:
            return _error(400, "Expiration date is required", "VALIDATION")
        return None

    def _new_user(self, username, body):
        return {"uuid": str(uuid.uuid4()), "id": len(self.users) + 1, "shortUuid": secrets.token_hex(8),
                "username": username, "status": body.get("status") or "ACTIVE",
                "trafficLimitBytes": int(body.get("trafficLimitBytes") or 0),
                "expireAt": _parse(body.get("expireAt")), "vlessUuid": str(uuid.uuid4()),
                "activeInternalSquads": list(body.get("activeInternalSquads") or []), "used": 0}

    def _find(self, username):
        return next((u for u in self.users.values() if u["username"] == username), None)

    def _answer(self, user, base):
        if user is None:
            return _error(404, "User not found", "A063")
        return json_response({"response": self._view(user, base)})

    def _view(self, user, base):
        expire = datetime.fromtimestamp(user["expireAt"], UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {"uuid": user["uuid"], "id": user["id"], "shortUuid": user["shortUuid"],
                "username": user["username"], "status": _status(user),
                "trafficLimitBytes": user["trafficLimitBytes"], "trafficLimitStrategy": "NO_RESET",
                "expireAt": expire, "vlessUuid": user["vlessUuid"],
                "subscriptionUrl": f"{base}/api/sub/{user['shortUuid']}",
                "activeInternalSquads": [{"uuid": s, "name": f"squad-{s[:8]}"} for s in user["activeInternalSquads"]],
                "userTraffic": {"usedTrafficBytes": user["used"], "lifetimeUsedTrafficBytes": user["used"],
                                "onlineAt": None, "firstConnectedAt": None, "lastConnectedNodeUuid": None}}


def _status(user):
    if user["status"] == "DISABLED":
        return "DISABLED"
    if user["trafficLimitBytes"] and user["used"] >= user["trafficLimitBytes"]:
        return "LIMITED"
    if user["expireAt"] <= now():
        return "EXPIRED"
    return "ACTIVE"


def _parse(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _error(status, message, code):
    return json_response({"message": message, "statusCode": status, "errorCode": code}, status)

"""Marzban's user API (v0.8.x, app/routers/user.py + app/models/user.py) and PasarGuard's (v1).

Same routes for both; `flavor="pasarguard"` answers 201 on create and 204 on delete, takes
`group_ids` instead of `proxies`/`inbounds`, and speaks ISO datetimes in `expire`.
The admin is admin/admin.
"""

import re
import secrets
import uuid
from datetime import UTC, datetime

from werkzeug import Response
from werkzeug.routing import Map, Rule

from .common import EmulatedPanel, body_json, json_response, now

USERNAME = re.compile(r"^(?=\w{3,32}\b)[a-zA-Z0-9]+(?:_[a-zA-Z0-9]+)*$")
ADMIN = ("admin", "admin")


class MarzbanEmulator(EmulatedPanel):
    url_map = Map([
        Rule("/api/admin/token", endpoint="token", methods=["POST"]),
        Rule("/api/user", endpoint="create", methods=["POST"]),
        Rule("/api/user/<username>", endpoint="get", methods=["GET"]),
        Rule("/api/user/<username>", endpoint="modify", methods=["PUT"]),
        Rule("/api/user/<username>", endpoint="remove", methods=["DELETE"]),
        Rule("/api/user/<username>/reset", endpoint="reset_usage", methods=["POST"]),
        Rule("/api/user/<username>/revoke_sub", endpoint="revoke_sub", methods=["POST"]),
        Rule("/api/users", endpoint="list_users", methods=["GET"]),
    ], strict_slashes=False)

    def __init__(self, flavor="marzban"):
        self.flavor = flavor
        super().__init__()

    def reset(self):
        self.users = {}
        self.tokens = set()

    # -- the panel's API ---------------------------------------------------------------------------

    def token(self, request, base):
        if (request.form.get("username"), request.form.get("password")) != ADMIN:
            return json_response({"detail": "Incorrect username or password"}, 401)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "bearer"})

    def create(self, request, base):
        denied = self._denied(request)
        if denied:
            return denied
        body = body_json(request) or {}
        problem = self._invalid(body)
        if problem:
            return json_response({"detail": problem}, 422)
        if body["username"] in self.users:
            return json_response({"detail": "User already exists"}, 409)
        user = self._new_user(body)
        self.users[user["username"]] = user
        return json_response(self._view(user, base), 201 if self.flavor == "pasarguard" else 200)

    def get(self, request, base, username):
        return self._denied(request) or self._with_user(username, lambda u: json_response(self._view(u, base)))

    def modify(self, request, base, username):
        def change(user):
            body = body_json(request) or {}
            if body.get("status") not in (None, "active", "disabled"):
                return json_response({"detail": "status must be active or disabled"}, 422)
            for field in ("data_limit", "status", "group_ids", "proxies", "inbounds"):
                if body.get(field) is not None:
                    user[field] = body[field]
            if body.get("expire") is not None:
                user["expire"] = _unix(body["expire"])
            return json_response(self._view(user, base))
        return self._denied(request) or self._with_user(username, change)

    def remove(self, request, base, username):
        def delete(user):
            del self.users[username]
            if self.flavor == "pasarguard":
                return Response(status=204)
            return json_response({"detail": "User successfully deleted"})
        return self._denied(request) or self._with_user(username, delete)

    def reset_usage(self, request, base, username):
        def reset(user):
            user["used_traffic"] = 0
            return json_response(self._view(user, base))
        return self._denied(request) or self._with_user(username, reset)

    def revoke_sub(self, request, base, username):
        def revoke(user):
            user["sub_token"] = secrets.token_urlsafe(16)
            user["uuid"] = str(uuid.uuid4())
            return json_response(self._view(user, base))
        return self._denied(request) or self._with_user(username, revoke)

    def list_users(self, request, base):
        denied = self._denied(request)
        if denied:
            return denied
        offset = int(request.args.get("offset") or 0)
        limit = int(request.args.get("limit") or len(self.users) or 1)
        names = sorted(self.users)
        page = [self._view(self.users[n], base) for n in names[offset:offset + limit]]
        return json_response({"users": page, "total": len(names)})

    # -- control --------------------------------------------------------------------------------

    def set_usage(self, username, used_bytes):
        user = self.users.get(username)
        if user is None:
            return False
        user["used_traffic"] = int(used_bytes)
        return True

    def users_summary(self):
        return [{"username": u["username"], "status": _status(u), "used_bytes": u["used_traffic"],
                 "expire": u["expire"], "data_limit": u["data_limit"]} for u in self.users.values()]

    def seed(self, count, prefix, used_bytes):
        for i in range(count):
            user = self._new_user({"username": f"{prefix}{i}", "proxies": {"vless": {}}, "group_ids": [1]})
            user["used_traffic"] = used_bytes
            self.users[user["username"]] = user

    # -- helpers --------------------------------------------------------------------------------

    def _denied(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return json_response({"detail": "Could not validate credentials"}, 401)
        return None

    def _with_user(self, username, then):
        user = self.users.get(username)
        if user is None:
            return json_response({"detail": "User not found"}, 404)
        return then(user)

    def _invalid(self, body):
        if not USERNAME.match(str(body.get("username") or "")):
            return "Username only can be 3 to 32 characters and contain a-z, 0-9, and underscores in between."
        if self.flavor == "marzban" and not body.get("proxies"):
            return "Each user needs at least one proxy"
        if self.flavor == "pasarguard" and not isinstance(body.get("group_ids"), list):
            return "group_ids must be a list"
        return None

    def _new_user(self, body):
        return {"username": body["username"], "status": body.get("status") or "active", "used_traffic": 0,
                "expire": _unix(body.get("expire")), "data_limit": body.get("data_limit") or 0,
                "proxies": body.get("proxies") or {}, "inbounds": body.get("inbounds") or {},
                "group_ids": body.get("group_ids") or [], "uuid": str(uuid.uuid4()),
                "sub_token": secrets.token_urlsafe(16), "created_at": datetime.now(UTC).isoformat()}

    def _view(self, user, base):
        view = {"username": user["username"], "status": _status(user), "used_traffic": user["used_traffic"],
                "lifetime_used_traffic": user["used_traffic"], "data_limit": user["data_limit"] or None,
                "data_limit_reset_strategy": "no_reset", "created_at": user["created_at"],
                "subscription_url": f"{base}/sub/{user['sub_token']}", "links": self._links(user)}
        if self.flavor == "pasarguard":
            expire = user["expire"]
            view.update(expire=datetime.fromtimestamp(expire, UTC).isoformat() if expire else None,
                        group_ids=user["group_ids"])
        else:
            view.update(expire=user["expire"] or None, proxies=user["proxies"], inbounds=user["inbounds"])
        return view

    def _links(self, user):
        protocols = sorted(user["proxies"]) or ["vless"]
        return [f"{p}://{user['uuid']}@sandbox-panel.local:443?security=tls&type=ws#{user['username']}"
                for p in protocols]


def _status(user):
    if user["status"] == "disabled":
        return "disabled"
    if user["data_limit"] and user["used_traffic"] >= user["data_limit"]:
        return "limited"
    if user["expire"] and user["expire"] <= now():
        return "expired"
    return "active"


def _unix(value):
    if value in (None, 0, "0", ""):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())

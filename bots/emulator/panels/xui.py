"""3x-ui's panel API (v2.x, web/controller/inbound.go): session login, clients inside inbounds.

Login admin/admin. Two inbounds exist from the start: 1 (vless, port 443) and 2 (vmess, port 8443).
An API call without the session cookie answers 404, as 3x-ui does.
"""

import json
import secrets

from werkzeug.routing import Map, Rule

from .common import EmulatedPanel, json_response, now

ADMIN = ("admin", "admin")
COOKIE = "3x-ui"
API = "/panel/api/inbounds"


class XuiEmulator(EmulatedPanel):
    url_map = Map([
        Rule("/login", endpoint="login", methods=["POST"]),
        Rule(f"{API}/list", endpoint="list_inbounds", methods=["GET"]),
        Rule(f"{API}/get/<int:inbound_id>", endpoint="get_inbound", methods=["GET"]),
        Rule(f"{API}/getClientTraffics/<email>", endpoint="client_traffics", methods=["GET"]),
        Rule(f"{API}/addClient", endpoint="add_client", methods=["POST"]),
        Rule(f"{API}/updateClient/<client_id>", endpoint="update_client", methods=["POST"]),
        Rule(f"{API}/<int:inbound_id>/delClient/<client_id>", endpoint="del_client", methods=["POST"]),
    ], strict_slashes=False)

    def reset(self):
        self.sessions = set()
        self.inbounds = {1: _inbound(1, "vless", 443), 2: _inbound(2, "vmess", 8443)}

    def login(self, request, base):
        if (request.form.get("username"), request.form.get("password")) != ADMIN:
            return _msg(False, "Wrong username or password")
        session = secrets.token_hex(16)
        self.sessions.add(session)
        response = _msg(True, "Login Successfully")
        response.set_cookie(COOKIE, session, httponly=True)
        return response

    def list_inbounds(self, request, base):
        return self._api(request) or _msg(True, "", [self._view(i) for i in self.inbounds.values()])

    def get_inbound(self, request, base, inbound_id):
        inbound = self.inbounds.get(inbound_id)
        return self._api(request) or _msg(inbound is not None, "" if inbound else "record not found",
                                          self._view(inbound) if inbound else None)

    def client_traffics(self, request, base, email):
        found = self._client_by_email(email)
        return self._api(request) or _msg(True, "", self._stat(*found) if found else None)

    def add_client(self, request, base):
        denied = self._api(request)
        if denied:
            return denied
        inbound, clients = self._form(request)
        if inbound is None:
            return _msg(False, "Something went wrong: record not found")
        for client in clients:
            if not client.get("email") or self._client_by_email(client["email"]):
                return _msg(False, f"Something went wrong: Duplicate email: {client.get('email')}")
        for client in clients:
            inbound["clients"].append({**client, "up": 0, "down": 0})
        return _msg(True, "Client(s) added Successfully")

    def update_client(self, request, base, client_id):
        denied = self._api(request)
        if denied:
            return denied
        inbound, clients = self._form(request)
        index = next((i for i, c in enumerate(inbound["clients"]) if c["id"] == client_id), None) \
            if inbound else None
        if index is None or len(clients) != 1:
            return _msg(False, "Something went wrong: empty client ID")
        old = inbound["clients"][index]
        inbound["clients"][index] = {**clients[0], "up": old["up"], "down": old["down"]}
        return _msg(True, "Client updated Successfully")

    def del_client(self, request, base, inbound_id, client_id):
        denied = self._api(request)
        if denied:
            return denied
        inbound = self.inbounds.get(inbound_id)
        kept = [c for c in inbound["clients"] if c["id"] != client_id] if inbound else []
        if inbound is None or len(kept) == len(inbound["clients"]):
            return _msg(False, "Something went wrong: Client Not Found")
        inbound["clients"] = kept
        return _msg(True, "Client deleted Successfully")

    # -- control --------------------------------------------------------------------------------

    def set_usage(self, username, used_bytes):
        found = self._client_by_email(username)
        if not found:
            return False
        found[1].update(up=0, down=int(used_bytes))
        return True

    def users_summary(self):
        return [{"username": c["email"], "inbound_id": i["id"], "status": _status(self._stat(i, c), c),
                 "used_bytes": c["up"] + c["down"], "expire": c.get("expiryTime", 0) // 1000,
                 "data_limit": c.get("totalGB", 0)}
                for i in self.inbounds.values() for c in i["clients"]]

    def seed(self, count, prefix, used_bytes):
        clients = self.inbounds[1]["clients"]
        for n in range(count):
            clients.append({"id": f"seed-{n}", "email": f"{prefix}{n}", "enable": True, "totalGB": 0,
                            "expiryTime": 0, "subId": f"s{n}", "up": 0, "down": used_bytes})

    # -- helpers --------------------------------------------------------------------------------

    def _api(self, request):
        if request.cookies.get(COOKIE) not in self.sessions:
            return json_response({"detail": "Not Found"}, 404)
        return None

    def _form(self, request):
        inbound = self.inbounds.get(int(request.form.get("id") or 0))
        try:
            clients = json.loads(request.form.get("settings") or "{}").get("clients") or []
        except ValueError:
            clients = []
        return inbound, [dict(c) for c in clients if isinstance(c, dict)]

    def _client_by_email(self, email):
        return next(((i, c) for i in self.inbounds.values() for c in i["clients"] if c.get("email") == email), None)

    def _stat(self, inbound, client):
        used, total, expiry = client["up"] + client["down"], client.get("totalGB") or 0, client.get("expiryTime") or 0
        depleted = (total and used >= total) or (expiry and expiry <= now() * 1000)
        return {"id": 0, "inboundId": inbound["id"], "email": client["email"], "up": client["up"],
                "down": client["down"], "total": total, "expiryTime": expiry, "reset": 0,
                "enable": bool(client.get("enable", True)) and not depleted}

    def _view(self, inbound):
        clients = [{k: v for k, v in c.items() if k not in ("up", "down")} for c in inbound["clients"]]
        return {"id": inbound["id"], "remark": inbound["remark"], "protocol": inbound["protocol"],
                "port": inbound["port"], "enable": True, "settings": json.dumps({"clients": clients}),
                "clientStats": [self._stat(inbound, c) for c in inbound["clients"]]}


def _inbound(inbound_id, protocol, port):
    return {"id": inbound_id, "remark": f"{protocol}-{port}", "protocol": protocol, "port": port, "clients": []}


def _status(stat, client):
    if not client.get("enable", True):
        return "disabled"
    return "active" if stat["enable"] else "limited"


def _msg(success, msg, obj=None):
    return json_response({"success": success, "msg": msg, "obj": obj})

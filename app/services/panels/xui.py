"""3x-ui (v2 panel API, web/controller/inbound.go): a session login, clients inside an inbound.

`POST /login` (form) sets the session cookie; under `/panel/api/inbounds`: `GET /list` (every inbound
with its `settings` JSON string and `clientStats`), `POST /addClient` and `POST /updateClient/{uuid}`
(form: `id` = inbound id, `settings` = {"clients": [client]}), `POST /{inbound}/delClient/{uuid}`.
A client is identified by its `email` (our username); `totalGB` is bytes despite its name and
`expiryTime` is unix milliseconds (0: never). Every answer is `{"success", "msg", "obj"}` with HTTP 200;
an API call without a session answers 404. The API gives no share links, so a member gets the
subscription link: `subscription_base_url` + the client's subId.
"""
from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from app.services.panels.base import DesiredUser, PanelAdapter, PanelAuthFailed, PanelRejected, RemoteUser

API = "/panel/api/inbounds"


class XuiAdapter(PanelAdapter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._logged_in = False

    def check(self) -> str:
        self._login()
        inbounds = self._inbounds()
        clients = sum(len(_clients(i)) for i in inbounds)
        return f"logged in; {len(inbounds)} inbounds, {clients} clients"

    def get_user(self, username: str) -> RemoteUser | None:
        return next((u for u in self.iter_users() if u.username == username), None)

    def create_user(self, desired: DesiredUser) -> RemoteUser:
        inbound_id = self._inbound_id(desired)
        client = {"id": str(uuid.uuid4()), "email": desired.username, "subId": secrets.token_hex(8),
                  "limitIp": 0, "tgId": "", "reset": 0, "flow": desired.options.get("flow", ""),
                  **_terms(desired)}
        self._post(f"{API}/addClient", f"adding client {desired.username}",
                   {"id": inbound_id, "settings": json.dumps({"clients": [client]})})
        return self._remote(inbound_id, client, used=0)

    def update_user(self, desired: DesiredUser, current: RemoteUser) -> RemoteUser:
        inbound_id, client = self._client_of(current)
        client.update(_terms(desired))
        return self._put_client(inbound_id, current, client, f"updating client {desired.username}")

    def delete_user(self, current: RemoteUser) -> None:
        inbound_id, client = self._client_of(current)
        self._post(f"{API}/{inbound_id}/delClient/{client['id']}", f"deleting client {current.username}", {})

    def reset_link(self, current: RemoteUser) -> RemoteUser:
        inbound_id, client = self._client_of(current)
        client.update(id=str(uuid.uuid4()), subId=secrets.token_hex(8))
        return self._put_client(inbound_id, current, client, f"renewing the link of {current.username}")

    def iter_users(self) -> Iterator[RemoteUser]:
        for inbound in self._inbounds():
            stats = {s.get("email"): s for s in inbound.get("clientStats") or []}
            for client in _clients(inbound):
                stat = stats.get(client.get("email"), {})
                used = int(stat.get("up") or 0) + int(stat.get("down") or 0)
                yield self._remote(inbound["id"], client, used, depleted=stat.get("enable") is False)

    # -- helpers --------------------------------------------------------------------------------

    def _put_client(self, inbound_id: int, current: RemoteUser, client: dict, what: str) -> RemoteUser:
        old_uuid = current.remote_id.split(":", 1)[1]
        self._post(f"{API}/updateClient/{old_uuid}", what,
                   {"id": inbound_id, "settings": json.dumps({"clients": [client]})})
        return self._remote(inbound_id, client, current.used_bytes)

    def _client_of(self, current: RemoteUser) -> tuple[int, dict]:
        inbound_id, client_uuid = current.remote_id.split(":", 1)
        for inbound in self._inbounds():
            if inbound["id"] == int(inbound_id):
                for client in _clients(inbound):
                    if client.get("id") == client_uuid or client.get("email") == current.username:
                        return int(inbound_id), dict(client)
        raise PanelRejected(f"client {current.username} is no longer in inbound {inbound_id}")

    def _remote(self, inbound_id: int, client: dict, used: int, depleted: bool = False) -> RemoteUser:
        expiry = int(client.get("expiryTime") or 0)
        status = "disabled" if not client.get("enable", True) else ("limited" if depleted else "active")
        return RemoteUser(
            username=client["email"], status=status, used_bytes=used,
            expire_at=datetime.fromtimestamp(expiry / 1000, UTC) if expiry > 0 else None,
            data_limit=int(client.get("totalGB") or 0) or None, remote_id=f"{inbound_id}:{client['id']}",
            subscription_url=self._sub_url(client.get("subId")))

    def _sub_url(self, sub_id: str | None) -> str | None:
        if not sub_id or not self.subscription_base_url:
            return None
        return self.subscription_base_url.rstrip("/") + "/" + sub_id

    def _inbound_id(self, desired: DesiredUser) -> int:
        try:
            return int(desired.options["inbound_id"])
        except (KeyError, TypeError, ValueError):
            raise PanelRejected("the plan names no 3x-ui inbound id") from None

    def _inbounds(self) -> list[dict]:
        return self._get(f"{API}/list", "listing inbounds") or []

    def _get(self, path: str, what: str):
        return self._api("GET", path, what)

    def _post(self, path: str, what: str, form: dict):
        return self._api("POST", path, what, data=form)

    def _api(self, method: str, path: str, what: str, **kwargs):
        if not self._logged_in:
            self._login()
        response = self.request(method, path, **kwargs)
        if response.status_code == 404:  # 3x-ui hides its API from a request without a session
            self._login()
            response = self.request(method, path, **kwargs)
        if response.status_code != 200:
            raise self.rejected(response, what)
        body = self.json_of(response, what)
        if not body.get("success"):
            raise PanelRejected(f"{what}: {body.get('msg') or 'the panel said no'}")
        return body.get("obj")

    def _login(self) -> None:
        form = {"username": self.credentials.get("username", ""), "password": self.credentials.get("password", "")}
        response = self.request("POST", "/login", data=form)
        if response.status_code != 200:
            raise self.rejected(response, "logging in (is the URL the panel's address with its base path?)")
        if not self.json_of(response, "logging in").get("success"):
            raise PanelAuthFailed("the panel refused the username or password")
        self._logged_in = True


def _terms(desired: DesiredUser) -> dict:
    return {"enable": desired.enabled, "totalGB": desired.data_limit or 0,
            "expiryTime": int(desired.expire_at.timestamp() * 1000) if desired.expire_at else 0}


def _clients(inbound: dict) -> list[dict]:
    settings = inbound.get("settings") or "{}"
    try:
        parsed = json.loads(settings) if isinstance(settings, str) else settings
    except ValueError:
        return []
    return list(parsed.get("clients") or [])

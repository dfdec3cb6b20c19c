"""Marzban (v0.8 user API) and its successor PasarGuard (v1 user API).

Both log in with `POST /api/admin/token` (an OAuth2 password form) and manage users under
`/api/user/{username}`; the token is cached per panel and renewed once on a 401.
They differ in a few fields: Marzban's `expire` is a unix timestamp and a user's access is set by
`proxies` + `inbounds`; PasarGuard's `expire` is an ISO datetime and access comes from `group_ids`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from app.services.crypto import sha256_hex
from app.services.panels.base import DesiredUser, PanelAdapter, PanelAuthFailed, PanelRejected, RemoteUser

#: Renew the admin token after this long even if the panel would still take it.
TOKEN_TTL_SECONDS = 30 * 60
_tokens: dict[tuple, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class MarzbanAdapter(PanelAdapter):
    """Marzban: proxies/inbounds, unix `expire`."""

    page_size = 1000

    def check(self) -> str:
        self._token(renew=True)
        page = self._call("GET", "/api/users", "list users", params={"offset": 0, "limit": 1}).json()
        return f"logged in; {page.get('total', 0)} users on the panel"

    def get_user(self, username: str) -> RemoteUser | None:
        response = self._send("GET", f"/api/user/{username}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.rejected(response, f"reading user {username}")
        return self.parse(self.json_of(response, "reading a user"))

    def create_user(self, desired: DesiredUser) -> RemoteUser:
        body = {"username": desired.username, "data_limit": desired.data_limit or 0,
                "expire": self.expire_value(desired.expire_at), "data_limit_reset_strategy": "no_reset",
                "status": "active", **self.access_fields(desired.options)}
        created = self.parse(self._call("POST", "/api/user", f"creating user {desired.username}", json=body).json())
        return created if desired.enabled else self.update_user(desired, created)

    def update_user(self, desired: DesiredUser, current: RemoteUser) -> RemoteUser:
        body = {"data_limit": desired.data_limit or 0, "expire": self.expire_value(desired.expire_at),
                "status": "active" if desired.enabled else "disabled"}
        response = self._call("PUT", f"/api/user/{desired.username}", f"updating user {desired.username}", json=body)
        return self.parse(response.json())

    def delete_user(self, current: RemoteUser) -> None:
        response = self._send("DELETE", f"/api/user/{current.username}")
        if response.status_code not in (200, 204, 404):
            raise self.rejected(response, f"deleting user {current.username}")

    def reset_link(self, current: RemoteUser) -> RemoteUser:
        path = f"/api/user/{current.username}/revoke_sub"
        return self.parse(self._call("POST", path, f"revoking the link of {current.username}").json())

    def iter_users(self) -> Iterator[RemoteUser]:
        offset = 0
        while True:
            page = self._call("GET", "/api/users", "listing users",
                              params={"offset": offset, "limit": self.page_size}).json()
            users = page.get("users") or []
            yield from (self.parse(u) for u in users)
            offset += len(users)
            if len(users) < self.page_size or offset >= page.get("total", 0):
                return

    # -- the differences between Marzban and PasarGuard ----------------------------------------

    @staticmethod
    def access_fields(options: dict) -> dict:
        return {"proxies": options.get("proxies") or {"vless": {}}, "inbounds": options.get("inbounds") or {}}

    @staticmethod
    def expire_value(moment: datetime | None):
        return int(moment.timestamp()) if moment else 0

    @staticmethod
    def parse(body: dict) -> RemoteUser:
        return RemoteUser(
            username=body["username"], status=body.get("status", "active"),
            used_bytes=int(body.get("used_traffic") or 0), expire_at=_moment(body.get("expire")),
            data_limit=body.get("data_limit") or None, subscription_url=body.get("subscription_url") or None,
            links=list(body.get("links") or []))

    # -- HTTP with the cached admin token ------------------------------------------------------

    def _call(self, method: str, path: str, what: str, **kwargs):
        response = self._send(method, path, **kwargs)
        if response.status_code not in (200, 201):
            raise self.rejected(response, what)
        self.json_of(response, what)
        return response

    def _send(self, method: str, path: str, **kwargs):
        try:
            return self.request(method, path, headers=self._auth(), **kwargs)
        except PanelAuthFailed:
            return self.request(method, path, headers=self._auth(renew=True), **kwargs)

    def _auth(self, renew: bool = False) -> dict:
        return {"Authorization": f"Bearer {self._token(renew)}"}

    def _token(self, renew: bool = False) -> str:
        key = (self.base_url, self.credentials.get("username"), sha256_hex(self.credentials.get("password", "")))
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and not renew and cached[1] > time.monotonic():
            return cached[0]
        token = self._login()
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + TOKEN_TTL_SECONDS)
        return token

    def _login(self) -> str:
        form = {"username": self.credentials.get("username", ""), "password": self.credentials.get("password", ""),
                "grant_type": "password"}
        try:
            response = self.request("POST", "/api/admin/token", data=form)
        except PanelAuthFailed:
            raise PanelAuthFailed("the panel refused the admin username or password") from None
        if response.status_code != 200:
            raise self.rejected(response, "logging in (is the URL the panel's address?)")
        token = self.json_of(response, "logging in").get("access_token")
        if not token:
            raise PanelRejected("logging in: the panel gave no access_token")
        return token


class PasarGuardAdapter(MarzbanAdapter):
    """PasarGuard: group_ids for access, ISO `expire`, 201 on create, 204 on delete."""

    @staticmethod
    def access_fields(options: dict) -> dict:
        return {"group_ids": [int(g) for g in options.get("group_ids") or []]}

    @staticmethod
    def expire_value(moment: datetime | None):
        return moment.astimezone(UTC).isoformat() if moment else 0


def _moment(value) -> datetime | None:
    if value in (None, 0, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""Remnawave (backend contract 2.x, `@remnawave/backend-contract`): API token, users by uuid.

`POST /api/users` creates, `PATCH /api/users` (uuid in the body) updates limit, expiry and squads,
`POST /api/users/{uuid}/actions/enable|disable|revoke` switch and renew the link,
`DELETE /api/users/{uuid}` removes, `GET /api/users/by-username/{username}` finds, and
`GET /api/users?start=&size=` (size ≤ 1000) pages through everyone. Every answer wraps its payload
in `{"response": ...}`; used traffic is `userTraffic.usedTrafficBytes` (2.2+) or `usedTrafficBytes`.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from app.services import clock
from app.services.panels.base import DesiredUser, PanelAdapter, RemoteUser

#: Remnawave wants an expiry date; "never" is far in the future.
NEVER = datetime(2099, 12, 31, tzinfo=UTC)


class RemnawaveAdapter(PanelAdapter):
    page_size = 1000

    def check(self) -> str:
        page = self._call("GET", "/api/users", "listing users", params={"start": 0, "size": 1})
        return f"token accepted; {page.get('total', 0)} users on the panel"

    def get_user(self, username: str) -> RemoteUser | None:
        response = self.request("GET", f"/api/users/by-username/{username}", headers=self._auth())
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.rejected(response, f"reading user {username}")
        return self.parse(self.json_of(response, "reading a user")["response"])

    def create_user(self, desired: DesiredUser) -> RemoteUser:
        body = {"username": desired.username, "status": "ACTIVE" if desired.enabled else "DISABLED",
                "trafficLimitBytes": desired.data_limit or 0, "trafficLimitStrategy": "NO_RESET",
                "expireAt": _iso(desired.expire_at or NEVER),
                "activeInternalSquads": list(desired.options.get("squads") or [])}
        return self.parse(self._call("POST", "/api/users", f"creating user {desired.username}", json=body))

    def update_user(self, desired: DesiredUser, current: RemoteUser) -> RemoteUser:
        body = {"uuid": current.remote_id, "trafficLimitBytes": desired.data_limit or 0}
        expire_at = desired.expire_at or NEVER
        if expire_at > clock.now():  # the panel refuses an expiry in the past; a lapsed user is disabled anyway
            body["expireAt"] = _iso(expire_at)
        if desired.options.get("squads"):
            body["activeInternalSquads"] = list(desired.options["squads"])
        updated = self.parse(self._call("PATCH", "/api/users", f"updating user {desired.username}", json=body))
        return self._switch(updated, desired.enabled)

    def delete_user(self, current: RemoteUser) -> None:
        response = self.request("DELETE", f"/api/users/{current.remote_id}", headers=self._auth())
        if response.status_code not in (200, 204, 404):
            raise self.rejected(response, f"deleting user {current.username}")

    def reset_link(self, current: RemoteUser) -> RemoteUser:
        path = f"/api/users/{current.remote_id}/actions/revoke"
        return self.parse(self._call("POST", path, f"revoking the link of {current.username}", json={}))

    def iter_users(self) -> Iterator[RemoteUser]:
        start = 0
        while True:
            page = self._call("GET", "/api/users", "listing users", params={"start": start, "size": self.page_size})
            users = page.get("users") or []
            yield from (self.parse(u) for u in users)
            start += len(users)
            if len(users) < self.page_size or start >= page.get("total", 0):
                return

    def _switch(self, user: RemoteUser, enabled: bool) -> RemoteUser:
        if enabled and user.status == "disabled":
            action = "enable"
        elif not enabled and user.status != "disabled":
            action = "disable"
        else:
            return user
        path = f"/api/users/{user.remote_id}/actions/{action}"
        return self.parse(self._call("POST", path, f"{action[:-1]}ing user {user.username}", json={}))

    @staticmethod
    def parse(body: dict) -> RemoteUser:
        traffic = body.get("userTraffic") or {}
        used = traffic.get("usedTrafficBytes", body.get("usedTrafficBytes", 0))
        return RemoteUser(
            username=body["username"], status=str(body.get("status", "ACTIVE")).lower(), used_bytes=int(used or 0),
            expire_at=_moment(body.get("expireAt")), data_limit=body.get("trafficLimitBytes") or None,
            subscription_url=body.get("subscriptionUrl") or None, remote_id=body.get("uuid"))

    def _call(self, method: str, path: str, what: str, **kwargs):
        response = self.request(method, path, headers=self._auth(), **kwargs)
        if response.status_code not in (200, 201):
            raise self.rejected(response, what)
        body = self.json_of(response, what)
        if not isinstance(body, dict) or "response" not in body:
            raise self.rejected(response, f"{what} (no 'response' in the answer: wrong URL?)")
        return body["response"]

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.credentials.get('token', '')}"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _moment(value) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return None if moment >= NEVER else moment

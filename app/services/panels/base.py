"""The one small interface every VPN panel adapter offers, and the errors it raises.

An adapter speaks one panel's published HTTP API (see docs/panels.md for the versions). It holds no
database state: it is built from a Panel row's URL and decrypted credentials, and every call is plain
HTTP with a timeout. Errors say what failed in words an owner can act on.
"""
from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import requests

#: (connect, read) seconds for every panel call.
TIMEOUT = (5, 15)


class PanelError(Exception):
    """A panel call failed; `str(error)` says what, without secrets."""


class PanelUnavailable(PanelError):
    """The panel did not answer, answered 5xx or timed out: try again later."""


class PanelAuthFailed(PanelError):
    """The panel refused the credentials (401/403)."""


class PanelRejected(PanelError):
    """The panel refused the request itself (4xx): retrying the same request will not help."""


@dataclass
class DesiredUser:
    """What Botfleet wants a panel user to be."""

    username: str
    #: None: never expires.
    expire_at: datetime | None
    #: Bytes; None: unlimited.
    data_limit: int | None
    enabled: bool
    #: The plan's panel options (proxies/inbounds, group ids, squads, inbound id).
    options: dict = field(default_factory=dict)


@dataclass
class RemoteUser:
    """A user as the panel reports it."""

    username: str
    #: "active", "disabled", "limited", "expired" (or "on_hold") as the panel says.
    status: str
    used_bytes: int
    expire_at: datetime | None = None
    data_limit: int | None = None
    subscription_url: str | None = None
    links: list[str] = field(default_factory=list)
    remote_id: str | None = None


class PanelAdapter(abc.ABC):
    """One panel's API behind the calls provisioning and the usage job need."""

    #: Largest page the usage pass asks for.
    page_size = 1000

    def __init__(self, base_url: str, credentials: dict, *, subscription_base_url: str | None = None,
                 http: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.subscription_base_url = subscription_base_url
        self.http = http or requests.Session()

    @abc.abstractmethod
    def check(self) -> str:
        """Log in and read something harmless; a line describing the panel, or a PanelError."""

    @abc.abstractmethod
    def get_user(self, username: str) -> RemoteUser | None:
        """The user, or None when the panel has no such user."""

    @abc.abstractmethod
    def create_user(self, desired: DesiredUser) -> RemoteUser:
        """Create the user; PanelRejected (conflict) if it exists already."""

    @abc.abstractmethod
    def update_user(self, desired: DesiredUser, current: RemoteUser) -> RemoteUser:
        """Make an existing user match `desired` (expiry, limit, enabled)."""

    @abc.abstractmethod
    def delete_user(self, current: RemoteUser) -> None:
        """Remove the user from the panel."""

    @abc.abstractmethod
    def reset_link(self, current: RemoteUser) -> RemoteUser:
        """Give the user a new subscription link (the old one stops working)."""

    @abc.abstractmethod
    def iter_users(self) -> Iterator[RemoteUser]:
        """Every user of the panel, page by page (bounded pages of `page_size`)."""

    def ensure(self, desired: DesiredUser) -> RemoteUser:
        """Create the user, or bring the existing one in line: a repeated call changes nothing more."""
        current = self.get_user(desired.username)
        if current is None:
            try:
                return self.create_user(desired)
            except PanelRejected:
                current = self.get_user(desired.username)  # created meanwhile by an earlier try
                if current is None:
                    raise
        return self.update_user(desired, current)

    def remove(self, username: str) -> None:
        """Delete the user if it exists; a missing user is already removed."""
        current = self.get_user(username)
        if current is not None:
            self.delete_user(current)

    # -- HTTP plumbing shared by the adapters --------------------------------------------------

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One call; transport failures and 5xx become PanelUnavailable, 401/403 PanelAuthFailed."""
        url = self.base_url + path
        try:
            response = self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.Timeout:
            raise PanelUnavailable(f"the panel did not answer within {TIMEOUT[1]} s ({method} {path})") from None
        except requests.ConnectionError:
            raise PanelUnavailable(f"cannot connect to {self.base_url} (refused or unreachable)") from None
        except requests.RequestException as exc:
            raise PanelUnavailable(f"{method} {path} failed: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise PanelUnavailable(f"the panel answered {response.status_code} to {method} {path}")
        if response.status_code in (401, 403):
            raise PanelAuthFailed(f"the panel refused the credentials ({response.status_code} on {method} {path})")
        return response

    @staticmethod
    def rejected(response: requests.Response, what: str) -> PanelRejected:
        return PanelRejected(f"{what}: the panel answered {response.status_code} {_detail(response)}")

    @staticmethod
    def json_of(response: requests.Response, what: str):
        try:
            return response.json()
        except ValueError:
            raise PanelRejected(f"{what}: the panel's answer is not JSON (wrong URL?)") from None


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("message") or body.get("msg") or body)[:200]
    return str(body)[:200]

"""Issue 14 items 4 and 8 (parts): the client address behind a configured number of proxies, and sign-in
doing the same password-hash work for an unknown email as for a known one."""
import pytest
from flask import request

from app import create_app
from app.services import auth
from config import TestConfig


def remote_addr_seen(app, headers: dict, peer: str = "127.0.0.1") -> str:
    @app.get("/_whoami")
    def whoami():
        return request.remote_addr
    return app.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": peer}).get_data(
        as_text=True)


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXY_HOPS=1)
    # A client may forge the left part; only the hop nginx appended (the right-most) is believed.
    assert remote_addr_seen(app, {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}) == "203.0.113.7"


def test_without_configured_proxies_forwarded_headers_are_ignored(database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    assert remote_addr_seen(app, {"X-Forwarded-For": "203.0.113.7"}, peer="198.51.100.2") == "198.51.100.2"


def test_an_unknown_email_costs_a_password_hash_too(db, make, monkeypatch):
    make.account("known@example.com")
    checked = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    assert auth.authenticate("nobody@example.com", "some-password") is None
    assert len(checked) == 1 and checked[0].split("$")[0] == make.account().password_hash.split("$")[0]

"""API fixtures: a tenant with a token of every scope, and a client that sends it."""
from __future__ import annotations

import itertools

import pytest

from app.services import api_tokens

_keys = itertools.count(1)


class ApiClient:
    """The Flask test client with a bearer token; json_of() reads problem+json too."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def _headers(self, headers):
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, idempotency_key=None, **kw):
        headers = dict(headers or {})
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.client.post(url, json=json if json is not None else {}, headers=self._headers(headers), **kw)

    def put(self, url, json=None, headers=None, **kw):
        return self.client.put(url, json=json if json is not None else {}, headers=self._headers(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch(url, json=json if json is not None else {}, headers=self._headers(headers), **kw)


def new_key() -> str:
    return f"test-key-{next(_keys)}"


@pytest.fixture
def token_for(db):
    """token_for(tenant, scopes=None) → the plaintext of a new token (None: every scope)."""
    def create(tenant, scopes=None):
        _, plaintext = api_tokens.create_token(tenant, "test", scopes)
        db.session.commit()
        return plaintext
    return create


@pytest.fixture
def tenant(make):
    return make.tenant()


@pytest.fixture
def api(app, db, tenant, token_for):
    return ApiClient(app.test_client(), token_for(tenant))

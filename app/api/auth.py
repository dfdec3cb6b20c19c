"""Who calls: a tenant's API token (Authorization: Bearer, or X-API-Token), and the scope each operation needs."""
from __future__ import annotations

from functools import wraps

from flask import g
from werkzeug.exceptions import Forbidden, Unauthorized

from app.api.limits import presented_token
from app.models import ApiToken, Tenant
from app.services import api_tokens

#: endpoint function name → scope, read by the spec processor to document each operation's scope.
SCOPE_ATTR = "api_scope"


def authenticate() -> None:
    """before_request of the API blueprint: 401 unless a live token is presented."""
    found = api_tokens.authenticate(presented_token())
    if found is None:
        raise Unauthorized("Send a valid API token: Authorization: Bearer <token> (or X-API-Token).")
    g.api_token, g.tenant = found
    api_tokens.touch(g.api_token)


def requires(scope: str):
    """The token must hold `scope`, else 403 (checked before the body is read)."""
    if scope not in api_tokens.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if scope not in (g.api_token.scopes or []):
                raise Forbidden(f"This token lacks the {scope!r} scope.")
            return view(*args, **kwargs)
        setattr(wrapped, SCOPE_ATTR, scope)
        return wrapped
    return decorator


def tenant() -> Tenant:
    return g.tenant


def token() -> ApiToken:
    return g.api_token

"""Idempotency-Key on money-moving POSTs: same key and body → the first response; another body → 409."""
from __future__ import annotations

from functools import wraps

from flask import make_response, request

from app.api import auth
from app.api.problems import problem
from app.services import idempotency

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def idempotent(view=None, *, required: bool = True):
    """Claim the key in this request's transaction, run the view, keep its response with its effects.

    `required=False` (spending quota, reporting usage): a request without the header simply runs, so
    callers that cannot retry need not send one, and those that can get the same protection.
    """
    if view is None:
        return lambda inner: idempotent(inner, required=required)

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = (request.headers.get(HEADER) or "").strip()
        if not key and not required:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= idempotency.MAX_KEY:
            return problem(422, f"This request moves money: send an {HEADER} header (1 to "
                                f"{idempotency.MAX_KEY} characters) so a retry cannot repeat it.",
                           code="validation_failed", errors={HEADER: ["Missing or too long."]})
        fingerprint = idempotency.request_hash(request.method, request.path, request.get_json(silent=True))
        tenant_id = auth.tenant().id
        replay = idempotency.claim(tenant_id, key, fingerprint)
        if replay is not None:
            return replay.body, replay.status_code, {REPLAYED: "true"}
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            idempotency.store(tenant_id, key, response.status_code, response.get_json())
        return response
    return wrapped


def key() -> str:
    """The request's Idempotency-Key, namespaced for ledger keys."""
    return "api:" + request.headers[HEADER].strip()

"""RFC 9457 problem details: every error under /api/v1 is application/problem+json."""
from __future__ import annotations

import time

from apiflask import HTTPError
from flask import Response, json
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from app.api.limits import limiter
from app.extensions import db
from app.services.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from app.services.idempotency import KeyReused
from app.services.quota import QuotaExhausted
from app.services.sessions import VersionMismatch

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:botfleet:problem:"

#: A domain refusal → (HTTP status, problem code). Codes named in the API contract win over the service's.
DOMAIN_STATUS = {
    NotFound: (404, "not_found"),
    ValidationFailed: (422, "validation_failed"),
    InvalidAmount: (422, "invalid_amount"),
    InsufficientFunds: (409, "insufficient_balance"),
    IdempotencyConflict: (409, "idempotency_conflict"),
    NotAllowed: (409, "not_allowed"),
    KeyReused: (409, "idempotency_key_reused"),
    QuotaExhausted: (429, "quota_exhausted"),
    VersionMismatch: (412, "version_mismatch"),
}
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 412: "Precondition failed", 415: "Unsupported media type", 422: "Unprocessable content",
          428: "Precondition required", 429: "Too many requests", 500: "Internal server error"}


def problem(status: int, detail: str | None = None, *, code: str | None = None, headers=None, **extra) -> Response:
    code = code or TITLES.get(status, "error").lower().replace(" ", "_")
    body = {"type": TYPE_BASE + code, "title": TITLES.get(status, "Error"), "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_domain(err: DomainError) -> Response:
    """A refused operation: nothing was written. Unlisted refusals (an invalid transition...) are 409s."""
    status, code = next(((s, c) for kind, (s, c) in DOMAIN_STATUS.items() if isinstance(err, kind)),
                        (409, err.code))
    return problem(status, err.message, code=code, **_jsonable(err.params))


def from_validation(error: HTTPError) -> Response:
    """webargs/marshmallow messages ({location: {field: [msg]}}) → {"errors": {field: [msg]}}."""
    if error.status_code != 422 or not isinstance(error.detail, dict):
        return problem(error.status_code, error.message)
    errors = {}
    for fields in (error.detail or {}).values():
        for field, messages in _flatten(fields).items():
            errors[field] = messages
    return problem(422, "The request is not valid; see errors.", code="validation_failed", errors=errors)


def from_http(error: HTTPException) -> Response:
    headers = {}
    if isinstance(error, RateLimitExceeded):
        headers["Retry-After"] = str(_retry_after(error))
        return problem(429, f"Rate limit exceeded ({error.description}).", code="rate_limited", headers=headers)
    if error.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="botfleet"'
    return problem(error.code or 500, error.description, headers=headers)


def server_error(_error) -> Response:
    db.session.rollback()
    return problem(500, "Something went wrong on our side; nothing was changed.")


def _retry_after(error: RateLimitExceeded) -> int:
    window = limiter.current_limit
    return max(1, int(window.reset_at - time.time())) if window is not None else 1


def _flatten(fields, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(fields, list):
        return {prefix or "body": [str(m) for m in fields]}
    out: dict[str, list[str]] = {}
    for name, value in fields.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        out.update(_flatten(value, key) if isinstance(value, (dict, list)) and not _is_messages(value)
                   else {key: [str(m) for m in value] if isinstance(value, list) else [str(value)]})
    return out


def _is_messages(value) -> bool:
    return isinstance(value, list) and all(isinstance(m, str) for m in value)


RESERVED = {"type", "title", "status", "detail", "code", "errors", "headers"}


def _jsonable(params: dict) -> dict:
    """The refusal's parameters as extension members (a clash with a standard member gets a current_ prefix)."""
    return {(f"current_{k}" if k in RESERVED else k): (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in params.items() if isinstance(v, (str, int, float, bool)) or hasattr(v, "isoformat")}

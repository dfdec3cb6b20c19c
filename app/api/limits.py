"""Per-token rate limits (Flask-Limiter): Redis storage when REDIS_URL is set, else this process's memory
(app/rate_limit_storage.py: limits' memory storage without a timer thread per request)."""
from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter

from app import rate_limit_storage


def token_key() -> str:
    """The presented token's hash: every process counts one token's requests under the same key."""
    presented = presented_token()
    if presented:
        return "token:" + hashlib.sha256(presented.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "-")


def presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return (request.headers.get("X-API-Token") or "").strip() or None


def api_rate() -> str:
    return current_app.config["API_RATE_LIMIT"]


#: No default limits: only the API blueprint is limited (see app/api/__init__.py).
limiter = Limiter(key_func=token_key, default_limits=[], headers_enabled=True, key_prefix="botfleet-api")


def init_app(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or rate_limit_storage.URI)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


"""/api/v1: the integration API for sibling services (VPN panels, AI bots, other bots of the tenant).

Thin resources over app/services; marshmallow schemas validate each request and, through APIFlask, make the
OpenAPI 3.1 document at /api/v1/openapi.json. Errors are problem+json (app/api/problems.py). docs/api.md.
"""
from __future__ import annotations

from apiflask import APIBlueprint, HTTPError
from flask import Flask, g
from werkzeug.exceptions import HTTPException

from app import unit_of_work
from app.api import auth, limits, openapi, problems
from app.extensions import csrf
from app.services.errors import DomainError

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(auth.authenticate)
bp.register_error_handler(HTTPError, problems.from_validation)
bp.register_error_handler(DomainError, problems.from_domain)
bp.register_error_handler(HTTPException, problems.from_http)
bp.register_error_handler(500, problems.server_error)


@bp.after_request
def _commit_or_roll_back(response):
    """The request is the unit of work: a success commits, a refusal rolls back; then after-commit steps run."""
    if response.status_code < 400:
        unit_of_work.commit()  # then the outbox rows it wrote are dispatched
        for step in g.pop("after_commit", []):
            step()
    else:
        unit_of_work.rollback()
    return response


def after_commit(step) -> None:
    """Run `step()` once this request's changes are committed (e.g. tell a member in Telegram)."""
    g.setdefault("after_commit", []).append(step)


def init_app(app: Flask) -> None:
    from app.api import (  # noqa: F401  (routes)
        bank_messages,
        bots,
        commerce,
        growth,
        members,
        money,
        support,
        webhook_endpoints,
    )

    csrf.exempt(bp)  # token-authenticated JSON, no cookies: CSRF does not apply
    limits.init_app(app)
    limits.limiter.limit(limits.api_rate, key_func=limits.token_key)(bp)
    app.register_blueprint(bp)
    openapi.init_app(app)


def configure(app: Flask) -> None:
    """Settings APIFlask reads, applied before the config class so an environment can override them."""
    openapi.configure(app)

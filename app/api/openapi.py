"""The OpenAPI document's finishing: security schemes, each operation's scope, problem+json error responses."""
from __future__ import annotations

import re

from flask import Flask

from app.api.auth import SCOPE_ATTR

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "Per field messages (422)."},
    },
}
ERRORS = {400: "Malformed request (e.g. a body that is not JSON)", 401: "No valid token", 403: "The token lacks this operation's scope",
          404: "Not found (also another tenant's id)", 409: "Refused: conflicts with the current state",
          412: "If-Match version is stale", 422: "Invalid request; `errors` per field",
          429: "Rate limit, or today's quota, exhausted"}
DESCRIPTION = ("Botfleet's integration API. Authenticate with `Authorization: Bearer <token>` (or `X-API-Token`). "
               "Errors are `application/problem+json`. See docs/api.md.")


def configure(app: Flask) -> None:
    """Config APIFlask reads: OpenAPI 3.1, local Swagger UI assets (no CDN), security schemes."""
    app.config.update(
        OPENAPI_VERSION="3.1.0", DESCRIPTION=DESCRIPTION, INFO={"description": DESCRIPTION},
        AUTO_VALIDATION_ERROR_RESPONSE=False, AUTO_404_RESPONSE=False, AUTO_SERVERS=False,
        AUTO_OPERATION_ID=True,
        SECURITY_SCHEMES={"bearer": {"type": "http", "scheme": "bearer"},
                          "apiToken": {"type": "apiKey", "in": "header", "name": "X-API-Token"}},
        SWAGGER_UI_CSS="/static/vendor/swagger-ui/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
        DOCS_FAVICON="/static/vendor/swagger-ui/favicon-32x32.png",
    )


def init_app(app: Flask) -> None:
    scopes = _scopes_by_operation(app)

    @app.spec_processor
    def finish(spec: dict) -> dict:
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        spec["security"] = [{"bearer": []}, {"apiToken": []}]
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                _finish_operation(operation, scopes.get((path, method.upper())))
        return spec


def _finish_operation(operation: dict, scope: str | None) -> None:
    if scope:
        operation["description"] = (operation.get("description", "") + f"\n\nScope: `{scope}`.").strip()
        operation["x-scope"] = scope
    responses = operation.setdefault("responses", {})
    for status, text in ERRORS.items():
        responses[str(status)] = {"description": text, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _scopes_by_operation(app: Flask) -> dict:
    """(OpenAPI path, METHOD) → scope, from the views' @requires."""
    found = {}
    for rule in app.url_map.iter_rules():
        scope = getattr(app.view_functions.get(rule.endpoint), SCOPE_ATTR, None)
        if scope:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found[(path, method)] = scope
    return found

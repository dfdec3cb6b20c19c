"""schemathesis against /api/v1/openapi.json: every operation, with a real token on a seeded tenant.

A few generated examples per operation (bounded in time); each response must not be a 5xx, and its status
code, content type, headers and body must match the document. Half the examples address the seeded rows
(their ids in the path), the rest whatever schemathesis generates (mostly 404s, which are documented too).
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.operations import build_tenant_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
KEYS = {"features": "referrals", "config": "support_contact"}


def _document() -> dict:
    """The document as GET /api/v1/openapi.json serves it (it needs no database)."""
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://").test_client().get(
        "/api/v1/openapi.json").get_json()


@pytest.fixture
def seeded(db, make, token_for):
    tenant = make.tenant()
    ids = build_tenant_world(db, make, tenant, telegram_id=4000)
    return ids, {"Authorization": f"Bearer {token_for(tenant)}"}


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, app, seeded):
    ids, headers = seeded
    if case.path_parameters and hash(repr(case.body)) % 2 == 0:
        for name in case.path_parameters:
            if name in ids:
                case.path_parameters[name] = ids[name]
            elif name == "key":
                case.path_parameters[name] = KEYS["features" if "/features/" in case.path else "config"]
    case.call_and_validate(headers=headers, checks=CHECKS, app=app)

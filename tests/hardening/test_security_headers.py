"""Issue 14 item 8 (headers): CSP, no framing, nosniff, Referrer-Policy, HSTS on HTTPS in production; templates
and charts carry no inline script, so the policy needs no 'unsafe-inline' for scripts on dashboard pages."""
import re
from pathlib import Path

import pytest

from app import create_app
from app.charts import bar_chart, line_chart, ranking_chart
from config import TestConfig

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))


@pytest.mark.parametrize("url", ["/login", "/overview/", "/sandbox", "/healthz"])
def test_every_response_carries_the_headers(client, url):
    response = client.get(url)
    csp = directives(response)
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_the_api_docs_page_has_its_own_policy(client):
    csp = directives(client.get("/api/v1/docs"))
    assert "'unsafe-inline'" in csp["script-src"] and csp["frame-ancestors"] == "'none'"


def test_each_policy_keeps_its_own_text_when_pages_alternate(client):
    """The policy texts are built once (app/security_headers.py): the docs page's and the others' stay apart."""
    texts = [client.get(url).headers["Content-Security-Policy"] for url in ("/login", "/api/v1/docs") * 2]
    assert texts[0] == texts[2] != texts[1] == texts[3]
    assert "'unsafe-inline'" in directives(client.get("/api/v1/docs"))["script-src"]
    assert directives(client.get("/login"))["script-src"] == "'self'"


@pytest.fixture
def production_like(database_url):
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, STRICT_TRANSPORT_SECURITY=True,
                      SESSION_COOKIE_SECURE=True)


def test_hsts_on_https_only(production_like):
    client = production_like.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    hsts = client.get("/login", base_url="https://botfleet.example").headers["Strict-Transport-Security"]
    assert int(hsts.split(";")[0].split("=")[1]) >= 365 * 24 * 3600


def test_the_webhooks_headers_follow_the_scheme_of_each_request(production_like, db):
    """The webhook's headers are worked out once per endpoint and scheme (app/security_headers.py): HSTS on HTTPS (or
    behind a proxy that says so) only, whichever came first."""
    client = production_like.test_client()
    hsts = ["Strict-Transport-Security" in client.post("/tg/999999", json={}, **how).headers for how in
            ({}, {"base_url": "https://botfleet.example"}, {}, {"headers": {"X-Forwarded-Proto": "https"}},
             {"headers": {"X-Forwarded-Proto": "http"}})]
    assert hsts == [False, True, False, True, False]
    assert client.post("/tg/999999", json={}).headers["X-Frame-Options"] == "DENY"


def test_the_headers_library_keeps_plain_http_cookies_in_development(client):
    assert "Secure" not in client.get("/login").headers["Set-Cookie"]


def test_templates_have_no_inline_scripts_or_event_handlers():
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}"
                 for path in TEMPLATES.rglob("*.html") for pattern in (INLINE_SCRIPT, EVENT_HANDLER)
                 for match in pattern.finditer(path.read_text())]
    assert not offenders, "move these into static/js (data via data-* attributes): " + "; ".join(offenders)


def test_charts_carry_no_script():
    """A chart is its figures in a data-* attribute and a table: static/js/charts.js draws it."""
    for chart in (bar_chart("t", ["a", "b"], {"x": [1, 2]}), line_chart("t", ["a", "b"], {"x": [1.0, 2.0]}),
                  ranking_chart("<b>", ["</figure><script>"], {"x": [3]})):
        assert "data-chart=" in chart and "<table" in chart and "<script" not in chart and "<b>" not in chart
        assert not EVENT_HANDLER.search(chart)

"""Security headers on every response (flask-talisman): a Content-Security-Policy, no framing
(frame-ancestors 'none' and X-Frame-Options DENY), nosniff, a Referrer-Policy, and HSTS on HTTPS requests
when STRICT_TRANSPORT_SECURITY is on (production).

The dashboard runs no inline script: its JavaScript is in static/js/ and reads its data from data-*
attributes (the charts' figures too: static/js/charts.js draws them). Styles may be inline: a few templates
carry a style attribute.
"""
from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from werkzeug.wrappers import Request, Response

SELF = "'self'"

#: Dashboard pages, the sandbox chat and everything else: only this site's scripts, styles, images and fetches.
CSP = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": [SELF, "'unsafe-inline'"],
    # data: for the small SVG icons inside Bootstrap's CSS (select arrows, close buttons, the navbar toggler).
    "img-src": [SELF, "data:"],
    "font-src": SELF,
    "connect-src": SELF,
    "object-src": "'none'",
    "base-uri": SELF,
    "frame-ancestors": "'none'",
}

#: /api/v1/docs: APIFlask's Swagger UI page starts Swagger UI with an inline script of its own template
#: (its assets are this site's, static/vendor/swagger-ui). The page shows no user content.
DOCS_CSP = {**CSP, "script-src": [SELF, "'unsafe-inline'"]}
DOCS_ENDPOINT = "openapi.docs"
_FIXED_KEY = "botfleet_fixed_security_headers"


class _Talisman(Talisman):
    """Talisman, building each policy's header text once: no view here puts a nonce in its policy, so the text of
    a policy never changes, and Talisman rebuilt it for every response (~half of its ~40 µs per response)."""

    def __init__(self, *args, **kwargs):
        self._policy_texts: dict[int, tuple[dict, str]] = {}
        super().__init__(*args, **kwargs)

    def _parse_policy(self, policy):
        if not isinstance(policy, dict) or self._get_local_options()["content_security_policy_nonce_in"]:
            return super()._parse_policy(policy)
        cached = self._policy_texts.get(id(policy))
        if cached is None or cached[0] is not policy:
            cached = self._policy_texts[id(policy)] = (policy, super()._parse_policy(policy))
        return cached[1]


class _FixedHeaders:
    """The security headers of Telegram's webhook's responses (hundreds a second, served outside Flask's request
    dispatch: app/webhooks): what Talisman sets, worked out by Talisman once per scheme (HSTS goes with HTTPS) and
    then copied. No policy here has a nonce, so they never change; Talisman looks its options up again for each
    header of each response, and needs a request context to."""

    def __init__(self, app: Flask, talisman: Talisman):
        self.app, self.talisman = app, talisman
        self.known: dict[bool, list[tuple[str, str]]] = {}

    def of(self, request: Request) -> list[tuple[str, str]]:
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        headers = self.known.get(secure)
        if headers is None:
            headers = self.known[secure] = self._work_out(request.path, secure)
        return headers

    def _work_out(self, path: str, secure: bool) -> list[tuple[str, str]]:
        with self.app.test_request_context(path, base_url="https://localhost" if secure else "http://localhost"):
            blank = Response()
            blank.headers.clear()
            return list(self.talisman._set_response_headers(blank).headers.items())


def fixed(app: Flask, request: Request) -> list[tuple[str, str]]:
    """The security headers of a response made outside Flask's request dispatch (app/webhooks)."""
    return app.extensions[_FIXED_KEY].of(request)


def init_app(app: Flask) -> None:
    talisman = app.extensions["talisman"] = _Talisman(
        app,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # nginx redirects plain HTTP (docs/deploy.md); the webhook and API must not be redirected here.
        force_https=False,
        strict_transport_security=app.config.get("STRICT_TRANSPORT_SECURITY", False),
        strict_transport_security_include_subdomains=False,
        # Keep the cookie settings of config.py (Talisman would otherwise force Secure even on plain HTTP).
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
    app.extensions[_FIXED_KEY] = _FixedHeaders(app, talisman)
    docs = app.view_functions.get(DOCS_ENDPOINT)
    if docs is not None:
        docs.talisman_view_options = {"content_security_policy": DOCS_CSP}

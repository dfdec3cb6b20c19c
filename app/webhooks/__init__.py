"""Telegram webhook endpoint: POST /tg/<bot_id>."""
from __future__ import annotations

from flask import Blueprint, Flask
from flask.sessions import SecureCookieSessionInterface

bp = Blueprint("webhooks", __name__)
ENDPOINT = "webhooks.telegram_update"
PREFIX = "/tg/"

from app.webhooks import routes  # noqa: E402,F401  (registers the view on bp)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except on Telegram's webhook: Telegram sends no cookie and the route reads
    no session, so it gets an empty one without the signer Flask builds for every request."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(PREFIX):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """What the webhook route does without: the session's signer, and every request hook of the dashboard
    (a lean endpoint, app/__init__.py): no CSRF token (Telegram's secret header is checked instead), no
    Flask-Limiter (it has no limits: a 429 would only make Telegram deliver again), no input guard (it reads
    no query or form), no session or remember cookie. The security headers stay."""
    app.session_interface = SessionInterface()
    app.lean_endpoints.add(ENDPOINT)

"""Telegram webhook endpoint: POST /tg/<bot_id>."""
from __future__ import annotations

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSessionInterface

bp = Blueprint("webhooks", __name__)
ENDPOINT = "webhooks.telegram_update"
PREFIX = "/tg/"
_limiter_filtered = False

from app.webhooks import routes  # noqa: E402,F401  (registers the view on bp)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except on Telegram's webhook: Telegram sends no cookie and the route reads
    no session, so it gets an empty one without the signer Flask builds for every request."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(PREFIX):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """What the webhook route does without: the session's signer, Flask-Limiter's look-up of its limits (it has
    none: a 429 would only make Telegram deliver again)."""
    from app.api.limits import limiter

    global _limiter_filtered
    app.session_interface = SessionInterface()
    if not _limiter_filtered:  # one limiter serves every app of the process
        limiter.request_filter(_is_webhook)
        _limiter_filtered = True


def _is_webhook() -> bool:
    return request.endpoint == ENDPOINT

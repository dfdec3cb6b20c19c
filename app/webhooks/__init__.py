"""Telegram's webhook, POST /tg/<bot_id>: served ahead of Flask's request dispatch (app.Botfleet.wsgi_app).

Telegram sends no cookie, query string or form, signs no one in and reads no page, so the route needs none of
Flask's request machinery: no request context (its session, URL matching, the dashboard's request hooks: CSRF,
Flask-Limiter, the input guard, the layout's caches, the remember cookie), no full_dispatch_request or error
pages. A werkzeug Request and an app context (the database session's scope) are all it uses; at hundreds of
updates a second the rest was a sixth of a worker's Python. Its responses carry the security headers of every
other response (app/security_headers.py)."""
from __future__ import annotations

import re

from app.webhooks.routes import serve

__all__ = ["bot_id_of", "serve"]

_PATH = re.compile(r"/tg/([0-9]+)\Z")


def bot_id_of(environ: dict) -> int | None:
    """The bot of a POST to /tg/<bot_id>; None for every other request (Flask serves those)."""
    if environ["REQUEST_METHOD"] != "POST":
        return None
    match = _PATH.match(environ.get("PATH_INFO", ""))
    return int(match[1]) if match else None

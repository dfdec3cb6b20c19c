"""Error pages."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from app.api import problems
from app.extensions import db


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405):
        app.register_error_handler(code, _page(code))
    app.register_error_handler(500, _server_error)
    app.register_error_handler(CSRFError, _csrf_error)


def _csrf_error(error):
    message = "This form expired or did not come from this site (missing CSRF token). Reload the page and try again."
    return render_template("errors/error.html", code=400, error=error, message=message), 400


def _page(code: int):
    def handler(error):
        if request.path.startswith("/api/"):  # a URL no API route matched: still problem+json
            return problems.from_http(error)
        return render_template("errors/error.html", code=code, error=error), code
    return handler


def _server_error(error):
    db.session.rollback()
    return render_template("errors/error.html", code=500, error=error), 500

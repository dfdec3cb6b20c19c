"""Refuse request parameters carrying NUL or other control characters before any view sees them.

psycopg2 raises on a NUL byte at flush (a 500), and no form or filter has a use for control characters
besides newlines and tabs; a clear 400 is better than guessing what was meant (app.services.parsing).
"""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _

from app.services.parsing import has_control_characters


def init_app(app: Flask) -> None:
    app.before_request(_refuse_control_characters)


def _refuse_control_characters():
    values = [v for _key, v in request.args.items(multi=True)] + list((request.view_args or {}).values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [v for _key, v in request.form.items(multi=True)]
    if any(isinstance(v, str) and has_control_characters(v) for v in values):
        message = _("The form or address contains invisible control characters (such as NUL). "
                    "Remove them and try again.")
        if request.path.startswith("/api/"):
            from app.api.problems import problem  # the API answers problem+json, like its other errors

            return problem(400, message, code="control_characters")
        return render_template("errors/error.html", code=400, message=message), 400
    return None

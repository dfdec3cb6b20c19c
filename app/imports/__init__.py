from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/import")

from app.imports import routes  # noqa: E402,F401  (routes attach to bp)

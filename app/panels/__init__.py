from flask import Blueprint

bp = Blueprint("panels", __name__, url_prefix="/panels")

from app.panels import routes  # noqa: E402,F401  (routes attach to bp)

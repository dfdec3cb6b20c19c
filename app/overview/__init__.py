from flask import Blueprint

bp = Blueprint("overview", __name__, url_prefix="/overview")

from app.overview import routes  # noqa: E402,F401  (routes attach to bp)

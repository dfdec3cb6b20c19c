from flask import Blueprint

bp = Blueprint("platform", __name__, url_prefix="/admin")

from app.platform import receipts, routes  # noqa: E402,F401  (routes attach to bp)

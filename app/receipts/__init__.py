from flask import Blueprint

bp = Blueprint("receipts", __name__, url_prefix="/receipts")

from app.receipts import routes  # noqa: E402,F401  (routes attach to bp)

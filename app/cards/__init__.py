from flask import Blueprint

bp = Blueprint("cards", __name__, url_prefix="/cards")

from app.cards import routes  # noqa: E402,F401  (routes attach to bp)

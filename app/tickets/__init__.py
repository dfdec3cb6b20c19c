from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

from app.tickets import routes  # noqa: E402,F401  (routes attach to bp)

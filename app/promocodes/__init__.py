from flask import Blueprint

bp = Blueprint("promocodes", __name__, url_prefix="/promocodes")

from app.promocodes import routes  # noqa: E402,F401  (routes attach to bp)

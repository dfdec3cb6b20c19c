from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

from app.integrations import routes  # noqa: E402,F401  (routes attach to bp)

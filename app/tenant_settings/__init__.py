from flask import Blueprint

bp = Blueprint("tenant_settings", __name__, url_prefix="/settings")

from app.tenant_settings import routes  # noqa: E402,F401  (routes attach to bp)

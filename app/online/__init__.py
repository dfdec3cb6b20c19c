"""Online payments (Zarinpal): the tenant's merchant id and the payments members made through the gateway."""
from flask import Blueprint

bp = Blueprint("online", __name__, url_prefix="/online-payments")

from app.online import routes  # noqa: E402,F401  (routes attach to bp)

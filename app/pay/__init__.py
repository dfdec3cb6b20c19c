"""Public payment pages: the Zarinpal callback (GET /pay/zarinpal/callback) and its result page."""
from flask import Blueprint

bp = Blueprint("pay", __name__)

from app.pay import routes  # noqa: E402,F401  (registers the views on bp)

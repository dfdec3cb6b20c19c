"""Bank messages: deposit SMS pasted or forwarded, and the queue of those a person must look at."""
from flask import Blueprint

bp = Blueprint("bank", __name__, url_prefix="/bank-messages")

from app.bank import routes  # noqa: E402,F401  (routes attach to bp)

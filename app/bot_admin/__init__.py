from flask import Blueprint

bp = Blueprint("bot_admin", __name__, url_prefix="/bots")

from app.bot_admin import routes  # noqa: E402,F401  (routes attach to bp)

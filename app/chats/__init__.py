from flask import Blueprint

bp = Blueprint("chats", __name__, url_prefix="/chats")

from app.chats import routes  # noqa: E402,F401  (routes attach to bp)

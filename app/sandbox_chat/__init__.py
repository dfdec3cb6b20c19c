"""Sandbox chat: try one of your bots in the Telegram sandbox, from the dashboard."""
from flask import Blueprint

bp = Blueprint("sandbox_chat", __name__, url_prefix="/sandbox")

from app.sandbox_chat import routes  # noqa: E402,F401  (routes attach to bp)

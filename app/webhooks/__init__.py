"""Telegram webhook endpoint: POST /tg/<bot_id>."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.webhooks import routes  # noqa: E402,F401  (registers the view on bp)

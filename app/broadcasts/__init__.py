"""Broadcasts: the dashboard page (owners only) and the `flask broadcast` commands (cli.py)."""
from flask import Blueprint

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")

from app.broadcasts import routes  # noqa: E402,F401  (routes attach to bp)

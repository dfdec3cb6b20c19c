"""Leaderboards: the top 100 by XP, all time and today."""
from flask import render_template, request

from app.leaderboard import bp
from app.services.member_queries import leaderboard
from app.web import readers, tenant_or_404


@bp.route("/")
@readers
def index():
    today = request.args.get("period") == "today"
    return render_template("leaderboard/index.html", rows=leaderboard(tenant_or_404(), today=today), today=today)

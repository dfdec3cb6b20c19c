from flask import jsonify

from app.health import bp
from app.services import health


@bp.route("/healthz")
def healthz():
    """200 when the database answers and a leader runs the jobs and bots, else 503; JSON either way."""
    report = health.check()
    response = jsonify(report)
    response.status_code = 200 if report["ok"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response

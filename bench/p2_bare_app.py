"""The baseline of bench/p2_webhook.py: a bare Flask route that reads a Telegram update as JSON and answers JSON.

Served by gunicorn exactly like Botfleet (same workers, threads and gunicorn.conf.py): no database, no reply
to Telegram, no extensions; what one webhook request costs before any work of ours.
"""
from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)
# Both apps run under the project's gunicorn.conf.py, whose worker hook starts Botfleet's runtime unless this says no.
app.config["RUNTIME_ENABLED"] = False


@app.post("/tg/<int:bot_id>")
def update(bot_id: int):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return "not an update", 400
    return jsonify(ok=True, bot_id=bot_id, update_id=payload["update_id"])


@app.get("/healthz")
def healthz():
    return jsonify(ok=True)

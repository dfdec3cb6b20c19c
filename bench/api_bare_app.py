"""The baseline of bench/api_throughput.py: a bare Flask route doing one indexed SELECT of a member.

Served by gunicorn exactly like the API (same workers and threads), on the same database (DATABASE_URL).
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, jsonify

engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
MEMBER = sa.text("SELECT id, telegram_id, balance, total_xp, level FROM members "
                 "WHERE tenant_id = :tenant AND telegram_id = :telegram_id")
app = Flask(__name__)
# Both apps run under the project's gunicorn.conf.py, whose worker hook starts Botfleet's runtime unless this says no.
app.config["RUNTIME_ENABLED"] = False


@app.get("/members/<int:tenant>/<int:telegram_id>")
def member(tenant: int, telegram_id: int):
    with engine.connect() as conn:
        row = conn.execute(MEMBER, {"tenant": tenant, "telegram_id": telegram_id}).mappings().first()
    return jsonify(dict(row)) if row else ("", 404)

"""A sibling service run as its own process: it knows Botfleet only through HTTP and a token.

    python tests/api/sibling_service.py BASE_URL TOKEN TELEGRAM_ID BOT_ID

It does what an AI bot beside the tenant's Telegram bot does for three paid requests, then prints one JSON
line with what Botfleet answered.
"""
from __future__ import annotations

import json
import sys

import requests


def main(base: str, token: str, telegram_id: int, bot_id: int) -> dict:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    member = f"{base}/api/v1/members/{telegram_id}"
    out = {"entitlement": api.get(f"{member}/entitlement", params={"bot_id": bot_id}).json()}
    out["consumed"] = [api.post(f"{member}/quota/consume", json={"bot_id": bot_id, "count": 1}).json()["used"]
                       for _ in range(3)]
    debit = {"amount": 500, "reason": "three AI answers"}
    first = api.post(f"{member}/balance/debit", json=debit, headers={"Idempotency-Key": "ai-batch-1"})
    retry = api.post(f"{member}/balance/debit", json=debit, headers={"Idempotency-Key": "ai-batch-1"})
    out["debit"] = [first.status_code, retry.status_code, first.json()["balance_after"], retry.json()["id"] ==
                    first.json()["id"]]
    out["xp"] = api.post(f"{member}/xp", json={"amount": 120, "reason": "quiz won", "bot_id": bot_id}).json()
    session = api.get(f"{member}/sessions/{bot_id}")
    stats = dict(session.json()["stats_data"], answers=3)
    saved = api.put(f"{member}/sessions/{bot_id}", json={"stats_data": stats},
                    headers={"If-Match": session.headers["ETag"]})
    stale = api.put(f"{member}/sessions/{bot_id}", json={"stats_data": {}}, headers={"If-Match": session.headers["ETag"]})
    out["session"] = [saved.status_code, saved.json()["version"], stale.status_code]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))

"""Issue 11's sibling-service acceptance: a second process that uses only HTTP (quota consume, debit, XP,
session PUT) while the member uses the bot through the sandbox; the bot's profile shows the results."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.models import BotSession, Member
from app.services import api_tokens, ledger
from bots import formatting as fmt
from bots.i18n import t

SIBLING = Path(__file__).resolve().parents[1] / "api" / "sibling_service.py"


def test_a_sibling_service_and_the_bot_share_one_member(db, shop, fleet, live_app):
    tenant, bot = shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == sara.id))
    ledger.credit_member(member, 2_000, key="gift", kind="adjustment", actor="system")
    _, token = api_tokens.create_token(tenant, "AI bot", ["read", "money", "members:write"])
    db.session.commit()
    xp_before = member.total_xp

    sibling = subprocess.Popen([sys.executable, str(SIBLING), live_app.config["PUBLIC_BASE_URL"], token,
                                str(sara.id), str(bot.id)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sara.presses("m:use")  # the member uses the bot meanwhile: one metered request in the same bot session
    out, err = sibling.communicate(timeout=120)
    assert sibling.returncode == 0, err
    result = json.loads(out)

    assert result["entitlement"]["quota"]["limit"] == 25
    assert sorted(result["consumed"])[-1] <= 4 and len(set(result["consumed"])) == 3
    assert result["debit"] == [201, 201, 1_500, True]
    assert result["xp"]["total_xp"] == xp_before + 120
    assert result["session"] == [200, 1, 412]

    sara.says("/profile")
    text = sara.last_text()
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.balance == 1_500 and member.total_xp == xp_before + 120
    assert t("en", "profile.balance", balance=fmt.money("en", 1_500)) in text
    assert t("en", "profile.requests", used="4", limit="25") in text
    assert t("en", "profile.xp", xp=fmt.number("en", member.total_xp), level=fmt.digits("en", member.level),
             rank="1") in text
    session = db.session.scalar(sa.select(BotSession).where(BotSession.member_id == member.id))
    assert session.stats_data["answers"] == 3 and session.daily_requests == 4

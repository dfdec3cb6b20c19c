"""Every notice to a member leaves through the outbox: written in the transaction of the change, sent by a
worker after the commit, never by the change itself; a rolled-back change tells nobody.

One case per notice the dashboard, the services and the jobs send (balance adjusted, subscription granted,
traffic limit reached, subscription expiry and reminder, stale receipt, receipt decision with the referrer's
bonus). A static check keeps Telegram sends out of everything but the outbox handlers and the replies made
after an update's commit.
"""
from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.jobs import receipts as receipt_jobs
from app.jobs import runner
from app.jobs import subscriptions as subscription_jobs
from app.models import Member, OutboxMessage, Receipt, Subscription
from app.services import clock, member_admin, receipt_announcements, receipts, referrals, wallet
from bots import notify
from tests.bots.conftest import CARD

ROOT = Path(__file__).resolve().parents[2]
GB = 1024 ** 3


@pytest.fixture
def world(db, make, fleet):
    """A tenant with a bot, its owner, and a member (a sandbox user who started the bot)."""
    owner = make.account()
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant)
    fleet.add(bot)
    make.card(tenant, number=CARD, holder_name="Reza Ahmadi", bank_name="Mellat")
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = db.session.scalar(sa.select(Member).where(Member.telegram_id == sara.id))
    return {"tenant": tenant, "bot": bot, "owner": owner, "member": member, "user": sara, "make": make, "db": db,
            "fleet": fleet}


def _subscription(w, ends_in: timedelta, **fields) -> Subscription:
    now = clock.now()
    sub = Subscription(tenant_id=w["tenant"].id, member_id=w["member"].id, status="active",
                       plan_id=w["make"].plan(w["tenant"], name="Gold", **fields.pop("plan", {})).id,
                       starts_at=now - timedelta(days=29), ends_at=now + ends_in, source="balance", **fields)
    w["db"].session.add(sub)
    w["db"].session.flush()
    return sub


def balance_adjusted(w):
    member_admin.adjust_balance(w["member"], 25_000, "Refund", w["owner"], request_id="r-1")


def subscription_granted(w):
    member_admin.grant_plan(w["member"], w["make"].plan(w["tenant"], name="Gold"), 3, w["owner"])


def traffic_limit_reached(w):
    sub = _subscription(w, timedelta(days=10), traffic_limit_bytes=GB)
    wallet.record_traffic_consumption(sub, GB)


def subscription_expired(w):
    _subscription(w, -timedelta(hours=1))
    runner.tell(subscription_jobs.expire_and_remind(w["tenant"], clock.now()))


def subscription_reminder(w):
    _subscription(w, timedelta(hours=20))
    runner.tell(subscription_jobs.expire_and_remind(w["tenant"], clock.now()))


def receipt_expired(w):
    receipt = receipts.open_invoice(w["member"], amount=50_000)
    receipt.created_at = receipt.expires_at = clock.now() - timedelta(days=3)
    w["db"].session.flush()
    runner.tell(receipt_jobs.expire_stale_receipts(w["tenant"], clock.now()))


def receipt_decision_with_referral_bonus(w):
    if "referrer" not in w:  # the factory commits: made once, for both runs of the change
        w["referrer"] = w["make"].member(w["tenant"], telegram_id=w["user"].id + 1)
    referrer = w["referrer"]
    w["fleet"].post("/sandbox/chats", {"chat_id": referrer.telegram_id, "bot_id": w["bot"].telegram_bot_id})
    referrals.set_referrer(w["member"], referrer.referral_code)
    receipt = receipts.open_invoice(w["member"], amount=100_000)
    receipts.submit(receipt, text="paid, ref 1234")
    receipts.approve(receipt, receipts.Reviewer(account=w["owner"]))
    receipt_announcements.announce_decision(receipt)  # what every decision path (dashboard, admin chat, API, bank SMS) calls


NOTICES = [balance_adjusted, subscription_granted, traffic_limit_reached, subscription_expired,
           subscription_reminder, receipt_expired, receipt_decision_with_referral_bonus]


def _sandbox_texts(w) -> list[str]:
    fleet, bot = w["fleet"], w["bot"]
    calls = fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"]
    return [c["params"].get("text") or c["params"].get("caption") for c in calls
            if c["method"] in ("sendMessage", "sendPhoto") and not c.get("error_code")]


@pytest.mark.parametrize("change", NOTICES, ids=lambda f: f.__name__)
def test_a_notice_is_an_outbox_row_sent_after_the_commit_and_never_on_rollback(world, change, drain_outbox):
    db = world["db"]
    before = _sandbox_texts(world)

    change(world)
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert drain_outbox() == [] and _sandbox_texts(world) == before

    change(world)
    written = db.session.scalars(sa.select(OutboxMessage.kind)).all()
    assert written and set(written) <= {"telegram.notice", "telegram.calls", "receipt.admin_refresh", "receipt.decision",
                                     "receipt.referral_bonus"}
    assert _sandbox_texts(world) == before  # nothing left inside the change
    db.session.commit()
    assert _sandbox_texts(world) == before  # nor at the commit: a worker sends it

    delivered = drain_outbox()

    assert delivered and all(row.status == "done" for row in delivered)
    told = _sandbox_texts(world)[len(before):]
    assert told, "nobody was told"
    if change is receipt_decision_with_referral_bonus:
        assert len(told) == 2  # the member's decision and the referrer's bonus
        assert db.session.scalar(sa.select(Receipt.status)) == "approved"


#: Where a Telegram send may be made, and why: outbox handlers (after the commit, at least once, effect once),
#: the replies of an update (after its commit, bots/replies.py via outbound.perform) and the error reply of an
#: update that was rolled back. Anything else sends from inside a change.
SEND_SITES = {
    "bots/outbound.py": "perform(): the one call site of outbox and reply calls (by getattr)",
    "bots/committed_send.py": "the broadcast send's call (raw HTTP: its last byte goes after the 'sending' commit)",
    "bots/ticket_outbound.py": "outbox handler of ticket copies and answers",
    "bots/service_card.py": "outbox handler of the service card",
    "bots/notify.py": "send_to_member(): a sandbox and test helper, called outside any transaction",
    "bots/middleware.py": "the error reply of an update, after its rollback",
}
SENDS = {"send_message", "send_photo", "send_document", "copy_message", "forward_message", "send_media_group"}


def test_telegram_sends_happen_only_where_the_outbox_allows():
    found = set()
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("bots/**/*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("bots/emulator/"):
            continue  # the sandbox is Telegram's side
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDS:
                found.add(relative)
    assert found <= set(SEND_SITES), sorted(found - set(SEND_SITES))

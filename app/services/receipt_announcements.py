"""A receipt decision told to those it concerns: outbox rows written in the decision's transaction.

Every decision path (the dashboard's queue, the bank-SMS page, the API, a Telegram admin) calls
`announce_decision(receipt)` right after receipts.approve / receipts.reject, before the commit. It writes:
- `receipt.admin_refresh`: every admin-chat copy of the receipt rewritten to its state (bots/receipt_outbound.py);
- `receipt.decision`: the member's message about the decision (bots/notify.py renders and sends it);
- `receipt.referral_bonus`: the referrer's message, when the approval paid them a bonus (bots/notify.py).

The bot engine renders the texts at delivery, in the member's language then, through their bot; what only
the decision knows travels in the payload: the status decided, the member's balance right after it, and
the growth rewards (level reached, badges earned, the referral bonus). A rolled-back decision tells nobody;
a committed one is delivered at least once, each row once per key.
"""
from __future__ import annotations

import uuid

from app.models import Receipt
from app.services import outbox

ADMIN_REFRESH = "receipt.admin_refresh"
DECISION = "receipt.decision"
REFERRAL_BONUS = "receipt.referral_bonus"


def refresh_admin_copies(receipt: Receipt) -> None:
    """Queue a rewrite of the receipt's admin-chat copies to its state at delivery (flush only)."""
    outbox.enqueue(ADMIN_REFRESH, {"receipt_id": receipt.id}, tenant_id=receipt.tenant_id,
                   key=f"receipt:{receipt.id}:refresh:{uuid.uuid4().hex}")


def announce_decision(receipt: Receipt) -> None:
    """After approve/reject: queue the admin copies' update, the member's message and the referrer's (flush only)."""
    refresh_admin_copies(receipt)
    rewards = getattr(receipt, "rewards", None)  # set by receipts.approve in this process
    outbox.enqueue(DECISION, {"receipt_id": receipt.id, "status": receipt.status,
                              "balance": receipt.member.balance, "rewards": _rewards(rewards)},
                   tenant_id=receipt.tenant_id, key=f"receipt:{receipt.id}:decision:{receipt.status}")
    bonus = getattr(rewards, "referral", None)
    if bonus is not None and (bonus.toman or bonus.xp):
        outbox.enqueue(REFERRAL_BONUS, {"receipt_id": receipt.id, "referrer_id": bonus.referrer.id,
                                        "toman": bonus.toman, "xp": bonus.xp, "level": _level(bonus.level_change)},
                       tenant_id=receipt.tenant_id, key=f"receipt:{receipt.id}:referral_bonus")


def _rewards(rewards) -> dict | None:
    if rewards is None:
        return None
    return {"level": _level(rewards.level_change), "badges": [badge.badge_code for badge in rewards.badges]}


def _level(change) -> int | None:
    return change.new_level if change is not None else None

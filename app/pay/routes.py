"""The Zarinpal callback: the payer's browser comes back here from StartPay with Authority and Status.

Public (the gateway redirects a browser, nobody signs in). Verification with the gateway happens inside
this request by nature: the payer waits for the answer the page shows. It is one verify call with a short
timeout, no retry and no sleep; a slow or failed call leaves the payment pending and the page says it is
being checked, and the reconciliation job (app/jobs/online_payments.py) settles it later. Query parameters
other than Authority and Status (an `Amount`, say) are ignored: we verify the amount in our database.
Rate-limited per client address (ZARINPAL_CALLBACK_RATE_LIMIT, the app's Flask-Limiter) so nobody makes
us hammer the gateway with guessed authorities.
"""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_limiter.util import get_remote_address

from app import unit_of_work
from app.api.limits import limiter
from app.pay import bp
from app.services.payments import settlement

MAX_AUTHORITY = 64


def callback_rate() -> str:
    return current_app.config["ZARINPAL_CALLBACK_RATE_LIMIT"]


@bp.get("/pay/zarinpal/callback")
@limiter.limit(callback_rate, key_func=lambda: "zarinpal-callback:" + get_remote_address())
def zarinpal_callback():
    authority = request.args.get("Authority", "", type=str)[:MAX_AUTHORITY]
    status = request.args.get("Status", "", type=str)[:8]
    payment = unit_of_work.run(lambda: settlement.settle_callback(authority, status))
    if payment is None:
        return render_template("pay/zarinpal_result.html", payment=None), 404
    return render_template("pay/zarinpal_result.html", payment=payment, back_url=_back_url(payment))


def _back_url(payment) -> str:
    """t.me/<bot> for a member; the dashboard wallet for an owner's wallet top-up."""
    if payment.bot is not None:
        return f"https://t.me/{payment.bot.username}"
    return "/wallet"

"""Deposit SMS for tests: a Mellat deposit of `amount` Toman to the card ending in `tail`, now (Tehran time)."""
from __future__ import annotations

import jdatetime

from app.services import clock
from app.services.payments.bank_sms.common import TEHRAN


def mellat_sms(amount_toman: int, tail: str, moment=None, note: str = "") -> str:
    local = jdatetime.datetime.fromgregorian(datetime=(moment or clock.now()).astimezone(TEHRAN))
    return (f"بانک ملت\nانتقال:{amount_toman * 10:,}+\nکارت:{'6037' + '*' * 8 + tail}\n"
            f"{local.strftime('%Y/%m/%d-%H:%M')}{note}")

"""Deposit SMS of the main Iranian banks: which bank, how much (Toman), into which account/card tail, when.

One module per bank (NAMES, parse). `parse(sender, text)` finds the bank by the sender or the text and
returns a `Deposit`, or raises `Refused` with the reason: withdrawals, purchases, OTPs, adverts and formats
we do not know are refused, never guessed. Samples: tests/data/bank_sms/.
"""
from __future__ import annotations

from app.services.payments.bank_sms import (
    blu,
    keshavarzi,
    mellat,
    melli,
    parsian,
    pasargad,
    refah,
    resalat,
    saderat,
    saman,
    sepah,
    tejarat,
)
from app.services.payments.bank_sms.common import Deposit, Refused, normalize

#: Checked in this order (Blu is Saman's, and says so; it goes first).
BANKS = (blu, melli, mellat, saderat, tejarat, sepah, pasargad, saman, parsian, keshavarzi, refah, resalat)
MAX_TEXT = 1_000


def parse(sender: str | None, text: str | None) -> Deposit:
    text = normalize(text or "")
    if not text.strip() or len(text) > MAX_TEXT:
        raise Refused("empty or too long to be a bank SMS")
    bank = bank_of(normalize(sender or ""), text)
    if bank is None:
        raise Refused("unknown sender or format")
    return bank.parse(text)


def bank_of(sender: str, text: str):
    for source in (sender.lower(), text.lower()):
        for bank in BANKS:
            if any(name in source for name in bank.NAMES):
                return bank
    return None


__all__ = ["BANKS", "Deposit", "Refused", "parse"]

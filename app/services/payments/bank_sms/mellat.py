"""Bank Mellat: deposit SMS (samples: tests/data/bank_sms/mellat.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Mellat"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('ملت', 'mellat')
AMOUNTS = (
    r"(?:انتقال|واریز)\s*:?\s*" + AMOUNT + r"\s*\+",
)
TAILS = (
    r"حساب\s*:?\s*\d*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

"""Bank Saman: deposit SMS (samples: tests/data/bank_sms/saman.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Saman"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('saman', 'سامان')
AMOUNTS = (
    r"deposit\s*:?\s*" + AMOUNT,
    r"واریز\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"acc\s*:?\s*[\d\-]*?(\d{4})-\d(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

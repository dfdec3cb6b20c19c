"""Bank Refah: deposit SMS (samples: tests/data/bank_sms/refah.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Refah"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('رفاه', 'refah')
AMOUNTS = (
    r"مبلغ\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"کارت\s*[0-9*]*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

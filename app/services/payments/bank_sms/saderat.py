"""Bank Saderat: deposit SMS (samples: tests/data/bank_sms/saderat.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Saderat"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('صادرات', 'saderat', 'bsi')
AMOUNTS = (
    r"واریز\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"کارت\s*[0-9*]*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

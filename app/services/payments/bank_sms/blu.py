"""Bank Blu: deposit SMS (samples: tests/data/bank_sms/blu.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Blu"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('بلو', 'blu')
AMOUNTS = (
    AMOUNT + r"\s*ریال\s*به\s*حساب",
    r"واریز\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"حساب\s*:?\s*[.…]*\s*\d*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

"""Bank Melli: deposit SMS (samples: tests/data/bank_sms/melli.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Melli"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('بانک ملی', 'bank melli', 'bmi')
AMOUNTS = (
    r"واریز\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"حساب\s*:?\s*\d*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

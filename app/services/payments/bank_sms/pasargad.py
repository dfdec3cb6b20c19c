"""Bank Pasargad: deposit SMS (samples: tests/data/bank_sms/pasargad.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Pasargad"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('پاسارگاد', 'pasargad', 'bpi')
AMOUNTS = (
    r"مبلغ\s*:?\s*" + AMOUNT,
)
TAILS = (
    r"به\s*\d+\.\d+\.\d*(\d{4})\.\d",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

"""Bank Sepah: deposit SMS (samples: tests/data/bank_sms/sepah.txt)."""
from app.services.payments.bank_sms.common import AMOUNT, Deposit, deposit

BANK = "Sepah"
#: Words (lower case) in the sender or the text that name this bank.
NAMES = ('سپه', 'sepah')
AMOUNTS = (
    r"\+\s*" + AMOUNT,
    AMOUNT + r"\s*\+",
)
TAILS = (
    r"سپرده\s*:?\s*\d*(\d{4})(?!\d)",
)


def parse(text: str) -> Deposit:
    return deposit(BANK, text, amount_patterns=AMOUNTS, tail_patterns=TAILS)

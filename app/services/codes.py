"""Short random codes people read aloud: no 0/O, 1/I/L look-alikes."""
from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def tracking_code() -> str:
    """e.g. C2C-7K3M9Q (31^6 ≈ 887 million codes)."""
    return f"C2C-{random_code(6)}"


def referral_code() -> str:
    return random_code(8)

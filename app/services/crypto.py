"""Encryption of bot tokens at rest and hashing of secrets."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["TOKEN_ENCRYPTION_KEY"])


def encrypt(plaintext: str) -> bytes:
    return _fernet().encrypt(plaintext.encode())


def decrypt(ciphertext: bytes) -> str:
    try:
        return _fernet().decrypt(bytes(ciphertext)).decode()
    except InvalidToken:
        raise RuntimeError("cannot decrypt a bot token: TOKEN_ENCRYPTION_KEY changed?") from None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())

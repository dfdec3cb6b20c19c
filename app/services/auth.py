"""Checking sign-in credentials."""
from __future__ import annotations

from app.models import Account, utcnow
from app.services.tenancy import find_account


def authenticate(email: str, password: str) -> Account | None:
    """The enabled account with these credentials, with last_login_at set; else None."""
    account = find_account(email)
    if account is None or not account.is_enabled or not account.check_password(password):
        return None
    account.last_login_at = utcnow()
    return account

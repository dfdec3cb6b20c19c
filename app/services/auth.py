"""Checking sign-in credentials, throttling guesses, and changing passwords."""
from __future__ import annotations

import functools
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Account, utcnow
from app.models.tenancy import password_hash_method
from app.services import login_throttle
from app.services.errors import DomainError, ValidationFailed
from app.services.tenancy import MIN_PASSWORD_LENGTH, find_account


class TooManyAttempts(DomainError):
    code = "too_many_attempts"


def authenticate(email: str, password: str) -> Account | None:
    """The enabled account with these credentials, with last_login_at set; else None."""
    return _check(find_account(email), password)


def _check(account: Account | None, password: str) -> Account | None:
    if account is None:
        check_password_hash(_dummy_hash(password_hash_method()), password)  # as slow as a known email: no enumeration by timing
        return None
    if not account.is_enabled or not account.check_password(password):
        return None
    account.last_login_at = utcnow()
    return account


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash made the way real ones are (same method and cost), of a password nobody has."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def sign_in(email: str, password: str, address: str) -> Account | None:
    """authenticate(), counted first by the sign-in throttle (app/services/login_throttle.py).

    :raises TooManyAttempts: a throttle rule is exhausted; no password was checked.
    """
    email_key = email.strip().lower()
    known = find_account(email)
    refusal = login_throttle.attempt(email_key, address, known.last_login_address if known else None)
    if refusal:
        raise TooManyAttempts(f"Too many sign-in attempts. Wait {refusal.minutes} minutes and try again.",
                              minutes=refusal.minutes, rule=refusal.rule)
    account = _check(known, password)
    if account is not None:
        login_throttle.succeeded(email_key, address)
        account.last_login_address = address
        db.session.flush()
    return account


def sign_out(account: Account) -> None:
    """End this and every other session of the account (a copied cookie stops working too)."""
    account.end_sessions()
    db.session.flush()


def change_password(account: Account, current: str, new: str) -> None:
    if not account.check_password(current):
        raise ValidationFailed("The current password is wrong.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    account.set_password(new)
    account.end_sessions()  # every other session; the caller signs the current one in again
    db.session.flush()

"""Checking sign-in credentials, throttling guesses, and changing passwords."""
from __future__ import annotations

import functools
import secrets
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Account, LoginAttempt, utcnow
from app.services.errors import DomainError, ValidationFailed
from app.services.tenancy import MIN_PASSWORD_LENGTH, find_account

#: Failed attempts allowed per (email, address) within the window before sign-in is refused.
MAX_FAILED_ATTEMPTS = 5
THROTTLE_WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    code = "too_many_attempts"


def authenticate(email: str, password: str) -> Account | None:
    """The enabled account with these credentials, with last_login_at set; else None."""
    account = find_account(email)
    if account is None:
        check_password_hash(_dummy_hash(), password)  # as slow as a known email: no enumeration by timing
        return None
    if not account.is_enabled or not account.check_password(password):
        return None
    account.last_login_at = utcnow()
    return account


@functools.cache
def _dummy_hash() -> str:
    """A hash made the way real ones are (same method and cost), of a password nobody has."""
    return generate_password_hash(secrets.token_urlsafe(16))


def sign_in(email: str, password: str, ip_address: str) -> Account | None:
    """authenticate(), refusing with TooManyAttempts after MAX_FAILED_ATTEMPTS recent failures.

    A failure is recorded (the caller commits it); a success clears that pair's failures.
    """
    email_key = email.strip().lower()
    if recent_failures(email_key, ip_address) >= MAX_FAILED_ATTEMPTS:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            f"Too many failed sign-ins for this account from your address. Wait {minutes} minutes and try again.",
            minutes=minutes)
    account = authenticate(email, password)
    if account is None:
        db.session.add(LoginAttempt(email=email_key, ip_address=ip_address))
    else:
        db.session.execute(sa.delete(LoginAttempt).where(
            LoginAttempt.email == email_key, LoginAttempt.ip_address == ip_address))
    db.session.flush()
    return account


def recent_failures(email_key: str, ip_address: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(LoginAttempt.id)).where(
        LoginAttempt.email == email_key, LoginAttempt.ip_address == ip_address,
        LoginAttempt.created_at >= utcnow() - THROTTLE_WINDOW))


def change_password(account: Account, current: str, new: str) -> None:
    if not account.check_password(current):
        raise ValidationFailed("The current password is wrong.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    account.set_password(new)
    db.session.flush()

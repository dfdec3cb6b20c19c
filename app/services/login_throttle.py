"""Sign-in throttling on Flask-Limiter's storage (Redis when REDIS_URL is set, else this process's memory).

Every attempt is counted *before* its password is checked, in one atomic step per rule (the `limits`
moving window that Flask-Limiter is built on), so parallel guesses cannot check more passwords than a
rule allows. Three rules, each in Flask-Limiter's syntax (config.py):

- account + address (LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS): tiers that back off (a minute, an hour, a day);
  a successful sign-in clears them. Guesses from other addresses never count against the owner's.
- address (LOGIN_RATE_LIMIT_ADDRESS): one address trying many accounts.
- account (LOGIN_RATE_LIMIT_ACCOUNT): a much higher ceiling for guesses spread over many addresses;
  the address of the account's last successful sign-in is spared, so its owner still gets in from there.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app import rate_limit_storage

EXTENSION = "botfleet.login_throttle"
#: This process's own count, used while the shared storage (Redis) does not answer: slower to share, never open.
FALLBACK = "botfleet.login_throttle.fallback"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Which rule refused, and how many minutes until it lets one attempt through again."""

    rule: str
    minutes: int


def init_app(app: Flask) -> None:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or rate_limit_storage.URI
    app.extensions[EXTENSION] = MovingWindowRateLimiter(storage_from_string(uri))
    app.extensions[FALLBACK] = MovingWindowRateLimiter(MemoryStorage())


def _counted(operation: Callable[[MovingWindowRateLimiter], T]) -> T:
    """Run operation on the shared storage; if it is down, on this process's memory (never unthrottled)."""
    try:
        return operation(current_app.extensions[EXTENSION])
    except Exception:  # a storage outage (e.g. redis ConnectionError) must not open or break sign-in
        log.warning("sign-in throttle storage unavailable; counting in this process", exc_info=True)
        return operation(current_app.extensions[FALLBACK])


def _rules(email_key: str, address: str, spare_account: bool) -> list[tuple[str, str, list[RateLimitItem]]]:
    config = current_app.config
    rules = [("account_address", f"{email_key}|{address}", parse_many(config["LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS"])),
             ("address", address, parse_many(config["LOGIN_RATE_LIMIT_ADDRESS"]))]
    if not spare_account:
        rules.append(("account", email_key, parse_many(config["LOGIN_RATE_LIMIT_ACCOUNT"])))
    return rules


def attempt(email_key: str, address: str, usual_address: str | None) -> Refusal | None:
    """Count one sign-in attempt under every rule; the first rule that is exhausted refuses it."""
    rules = _rules(email_key, address, spare_account=address == usual_address)
    return _counted(lambda strategy: _hit_all(strategy, rules))


def _hit_all(strategy: MovingWindowRateLimiter, rules) -> Refusal | None:
    for rule, key, items in rules:
        for item in items:
            if not strategy.hit(item, "botfleet-login", rule, key):
                return Refusal(rule, _minutes_until_free(strategy, item, rule, key))
    return None


def succeeded(email_key: str, address: str) -> None:
    """The owner got in from this address: forget its mistakes there (the other rules keep counting)."""
    rule, key, items = _rules(email_key, address, spare_account=True)[0]
    _counted(lambda strategy: [strategy.clear(item, "botfleet-login", rule, key) for item in items])


def _minutes_until_free(strategy: MovingWindowRateLimiter, item: RateLimitItem, rule: str, key: str) -> int:
    reset_at = strategy.get_window_stats(item, "botfleet-login", rule, key).reset_time
    return max(1, math.ceil((reset_at - time.time()) / 60))

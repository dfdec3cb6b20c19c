"""The Zarinpal REST v4 client: request, verify and unVerified, nothing else.

`ZARINPAL_API_URL` is the gateway's base: the sandbox (default, `make run` and tests),
https://sandbox.zarinpal.com or https://payment.zarinpal.com. Amounts are Rial (Toman × 10).
Every call is one HTTP request with a short timeout and no retry: the callers decide (the callback
page says "being checked", the reconciliation job tries again on its next run). Merchant ids are
never logged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import requests
from flask import current_app

log = logging.getLogger(__name__)

#: Verify answers that mean the money reached the merchant: 100 now, 101 "verified before".
VERIFIED_CODES = (100, 101)


@dataclass(frozen=True)
class Answer:
    """What the gateway said: its code (None when it could not be reached) and the `data` object."""

    code: int | None
    data: dict = field(default_factory=dict)
    message: str = ""

    @property
    def transient(self) -> bool:
        """Unreachable, an HTTP 5xx, or -12 (too many attempts): ask again later rather than fail."""
        return self.code is None or self.code == -12

    @property
    def verified(self) -> bool:
        return self.code in VERIFIED_CODES


def base_url() -> str:
    return current_app.config["ZARINPAL_API_URL"].rstrip("/")


def start_pay_url(authority: str) -> str:
    """Where the payer goes to pay: the gateway's StartPay page."""
    return f"{base_url()}/pg/StartPay/{authority}"


def request_payment(merchant_id: str, amount_rial: int, *, description: str, callback_url: str,
                    metadata: dict) -> Answer:
    """payment/request.json → an Answer whose data holds `authority` when code is 100."""
    return _post("request.json", {"merchant_id": merchant_id, "amount": amount_rial, "description": description,
                                  "callback_url": callback_url, "metadata": metadata})


def verify(merchant_id: str, authority: str, amount_rial: int) -> Answer:
    """payment/verify.json with OUR amount; 100 or 101 carry `ref_id` and `card_pan`."""
    return _post("verify.json", {"merchant_id": merchant_id, "authority": authority, "amount": amount_rial})


def unverified(merchant_id: str) -> tuple[Answer, dict[str, int]]:
    """payment/unVerified.json: {authority: amount in Rial} of payments paid but not verified yet."""
    answer = _post("unVerified.json", {"merchant_id": merchant_id})
    rows = answer.data.get("authorities") if answer.code == 100 else None
    return answer, {str(r.get("authority")): int(r.get("amount") or 0) for r in rows or [] if isinstance(r, dict)}


def _post(endpoint: str, body: dict) -> Answer:
    url = f"{base_url()}/pg/v4/payment/{endpoint}"
    timeout = current_app.config["ZARINPAL_TIMEOUT_SECONDS"]
    try:
        response = requests.post(url, json=body, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        log.warning("zarinpal %s unreachable: %s", endpoint, type(exc).__name__)
        return Answer(None, message=type(exc).__name__)
    if response.status_code >= 500:
        log.warning("zarinpal %s answered HTTP %s", endpoint, response.status_code)
        return Answer(None, message=f"HTTP {response.status_code}")
    return _answer(endpoint, response)


def _answer(endpoint: str, response) -> Answer:
    try:
        payload = response.json()
    except ValueError:
        return Answer(None, message=f"HTTP {response.status_code}, not JSON")
    data = payload.get("data") if isinstance(payload, dict) else None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(data, dict) and "code" in data:
        return Answer(_int(data["code"]), data, str(data.get("message", "")))
    if isinstance(errors, dict) and "code" in errors:
        log.info("zarinpal %s refused: %s %s", endpoint, errors.get("code"), errors.get("message"))
        return Answer(_int(errors["code"]), {}, str(errors.get("message", "")))
    return Answer(None, message="unexpected answer")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

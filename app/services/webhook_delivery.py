"""Sending event webhooks (outbox kind "webhook.event"): signed POSTs, backoff for 3 days, auto-disable.

Signature: `Botfleet-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (docs/api.md shows how
to verify it). Delivery is at least once: receivers dedupe on the event id (the body's "id").
"""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app

from app.extensions import db
from app.models import TenantNotice, WebhookDelivery, WebhookEndpoint
from app.services import clock, outbox, webhooks

SIGNATURE_HEADER = "Botfleet-Signature"
TIMEOUT_SECONDS = 10
#: A delivery keeps being retried this long after the event, then counts as failed.
GIVE_UP_AFTER = timedelta(days=3)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 6 * 3600
#: Failed deliveries in a row (each after 3 days of retries, or refused outright) that disable an endpoint.
DISABLE_AFTER_FAILURES = 5


def sign(secret: str, body: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> float:
    """30 s, 1 min, 2 min, ... doubling per attempt, at most 6 h apart."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


@outbox.handler(webhooks.OUTBOX_KIND)
def deliver(message) -> None:
    delivery = db.session.get(WebhookDelivery, message.payload["delivery_id"])
    if delivery is None or delivery.status != "pending":
        return  # the endpoint was deleted, or a repeat of a delivery already done
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if not endpoint.is_active:
        _fail(delivery, endpoint, "The endpoint is disabled.", count=False)
        return
    delivery.attempts += 1
    error = _post(endpoint, delivery)
    if error is None:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", clock.now(), None
        endpoint.consecutive_failures = 0
        return
    delivery.last_error = error[:300]
    if clock.now() - delivery.created_at >= GIVE_UP_AFTER:
        _fail(delivery, endpoint, error)
        return
    raise outbox.Retry(retry_delay(delivery.attempts), error)


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> str | None:
    """POST the body; None on a 2xx, else what went wrong (never the secret)."""
    if not current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS") and \
            webhooks.resolves_to_private(urlsplit(endpoint.url).hostname or ""):
        return "The URL now resolves to a private address; not sent."
    headers = {"Content-Type": "application/json", "User-Agent": "Botfleet-Webhooks/1",
               SIGNATURE_HEADER: sign(webhooks.endpoint_secret(endpoint), delivery.body, int(time.time())),
               "Botfleet-Event-Id": delivery.event_id, "Botfleet-Event-Type": delivery.event_type}
    try:
        response = requests.post(endpoint.url, data=delivery.body.encode(), headers=headers,
                                 timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        return f"{type(exc).__name__} while connecting"
    delivery.last_status_code = response.status_code
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def _fail(delivery: WebhookDelivery, endpoint: WebhookEndpoint, error: str, *, count: bool = True) -> None:
    delivery.status, delivery.last_error = "failed", error[:300]
    if not count or not endpoint.is_active:
        return
    endpoint.consecutive_failures += 1
    if endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES:
        endpoint.is_active, endpoint.disabled_at = False, clock.now()
        db.session.add(TenantNotice(
            tenant_id=endpoint.tenant_id, kind="webhook_disabled",
            message=f"The webhook endpoint {endpoint.url[:200]} was disabled after {DISABLE_AFTER_FAILURES} "
                    "failed deliveries in a row. Fix it, then add it again."))

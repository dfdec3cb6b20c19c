"""Event webhooks: a tenant's endpoints, and the events its services emit to them.

`emit` writes one WebhookDelivery per subscribed endpoint in the caller's transaction and an outbox row
for each; app/services/webhook_delivery.py sends them after commit, signed, with retries.
"""
from __future__ import annotations

import ipaddress
import json
import random
import socket
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import Tenant, WebhookDelivery, WebhookEndpoint
from app.services import audit, clock, crypto, outbox, rowwrites
from app.services.errors import ValidationFailed
from app.services.lookup import get_owned

EVENTS = ("member.created", "subscription.activated", "subscription.extended", "subscription.changed",
          "subscription.expired", "subscription.limited", "subscription.cancelled", "receipt.submitted", "receipt.approved", "receipt.rejected",
          "balance.changed", "payment.succeeded", "ticket.created")
OUTBOX_KIND = "webhook.event"
MAX_ENDPOINTS = 20


def create_endpoint(tenant: Tenant, url: str, *, events=None, description: str | None = None,
                    by=None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned once; stored encrypted). No events means all."""
    url = check_url(url)
    events = sorted(set(events or []))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationFailed(f"Unknown event {unknown[0]!r}; events are {', '.join(EVENTS)}.")
    if len(endpoints_of(tenant)) >= MAX_ENDPOINTS:
        raise ValidationFailed(f"A tenant may have at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = "whsec_" + crypto.new_secret(24)
    endpoint = WebhookEndpoint(tenant_id=tenant.id, url=url, events=events, secret_encrypted=crypto.encrypt(secret),
                               description=((description or "").strip() or None), is_active=True,
                               consecutive_failures=0)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "webhook.create", f"webhook_endpoint:{endpoint.id}", url=url)
    return endpoint, secret


def endpoints_query(tenant: Tenant) -> sa.Select:
    return sa.select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant.id).order_by(WebhookEndpoint.id)


def endpoints_of(tenant: Tenant) -> list[WebhookEndpoint]:
    return list(db.session.scalars(endpoints_query(tenant)))


def get_endpoint(tenant: Tenant, endpoint_id: int) -> WebhookEndpoint:
    return get_owned(WebhookEndpoint, tenant, endpoint_id, "No such webhook endpoint.")


def delete_endpoint(endpoint: WebhookEndpoint, *, by=None) -> None:
    audit.record(endpoint.tenant_id, audit.actor_of(by), "webhook.delete", f"webhook_endpoint:{endpoint.id}")
    db.session.delete(endpoint)
    db.session.flush()


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt(endpoint.secret_encrypted)


def deliveries_query(tenant: Tenant, endpoint: WebhookEndpoint) -> sa.Select:
    """Newest first."""
    return (sa.select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant.id,
                                             WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))


def get_delivery(tenant: Tenant, delivery_id: int) -> WebhookDelivery:
    return get_owned(WebhookDelivery, tenant, delivery_id, "No such delivery.")


def emit(tenant_id: int, event_type: str, data: dict) -> list[WebhookDelivery]:
    """Queue the event for every active endpoint of the tenant that wants it (in the caller's transaction)."""
    return emit_all(tenant_id, [(event_type, data)])


def emit_all(tenant_id: int, events: list[tuple[str, dict]] | Callable[[], list[tuple[str, dict]]]
             ) -> list[WebhookDelivery]:
    """emit() of several events of one operation, in order, reading the tenant's endpoints once (or not at all,
    when this process has them for the tenant row's webhooks_version). `events` may be a function that builds
    them, called only when the tenant has an active endpoint (most have none: an approval builds no payload)."""
    if not callable(events):
        _check_types(events)
    tenant = rowwrites.get(Tenant, tenant_id)  # usually loaded already: the caller's tenant
    if tenant is None:
        return []
    endpoints = _active_endpoints(tenant)
    if not endpoints:
        return []
    if callable(events):
        events = events()
        _check_types(events)
    return [delivery for event_type, data in events
            for delivery in _queue_event(tenant_id, tenant.slug, endpoints, event_type, data)]


def _check_types(events) -> None:
    unknown = [event_type for event_type, _data in events if event_type not in EVENTS]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}")


_ENDPOINTS = WebhookEndpoint.__table__.c
_ACTIVE_ENDPOINTS = sa.select(_ENDPOINTS.id, _ENDPOINTS.events).where(
    _ENDPOINTS.tenant_id == sa.bindparam("endpoint_tenant_id"), _ENDPOINTS.is_active.is_(True))

#: {tenant id: ((webhooks_version, created_at), ((id, events) of each active endpoint, ...))} per process. Every
#: change of an endpoint that matters here (created, deleted, is_active or events changed, however the ORM makes
#: it: the mapper events below) gives its tenant a new random webhooks_version in the same transaction, so an
#: entry whose stamp is not the tenant row's is read again. Random, not a counter: a version a rolled-back
#: transaction cached (or one of a restored backup) never comes back with other endpoints. The version is read
#: (with the tenant row) before the endpoints, so an entry never holds endpoints older than its stamp. created_at
#: tells a new tenant (version 0) from a deleted one whose id SQLite (or a test's RESTART IDENTITY) reused.
_active_cache: dict[int, tuple[tuple, tuple]] = {}


def _active_endpoints(tenant: Tenant) -> tuple:
    """(id, events) of each active endpoint of the tenant: no statement while its webhooks_version holds."""
    stamp = (tenant.webhooks_version, tenant.created_at)
    cached = _active_cache.get(tenant.id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    # A Core statement built once; the session's connection does not autoflush, as before the cache.
    endpoints = tuple(db.session.connection().execute(_ACTIVE_ENDPOINTS, {"endpoint_tenant_id": tenant.id}))
    _active_cache[tenant.id] = (stamp, endpoints)
    return endpoints


_TENANTS = Tenant.__table__.c
_NEW_VERSION = sa.update(Tenant.__table__).where(_TENANTS.id == sa.bindparam("version_tenant_id")).values(
    webhooks_version=sa.bindparam("version", type_=_TENANTS.webhooks_version.type))
_random = random.SystemRandom()


def _new_version(connection, endpoint: WebhookEndpoint) -> None:
    """A new webhooks_version for the endpoint's tenant (in the flush that writes the endpoint), also on the
    tenant object of this session, so its next event reads the endpoints again."""
    version = _random.randrange(1, 2**62)
    connection.execute(_NEW_VERSION, {"version_tenant_id": endpoint.tenant_id, "version": version})
    session = object_session(endpoint)
    tenant = session.identity_map.get(identity_key(Tenant, endpoint.tenant_id)) if session else None
    if tenant is not None:
        set_committed_value(tenant, "webhooks_version", version)


@sa.event.listens_for(WebhookEndpoint, "after_insert")
@sa.event.listens_for(WebhookEndpoint, "after_delete")
def _endpoint_added_or_deleted(_mapper, connection, endpoint: WebhookEndpoint) -> None:
    _new_version(connection, endpoint)


@sa.event.listens_for(WebhookEndpoint, "after_update")
def _endpoint_updated(_mapper, connection, endpoint: WebhookEndpoint) -> None:
    state = sa.inspect(endpoint)
    if any(state.attrs[key].history.has_changes() for key in ("is_active", "events", "tenant_id")):
        _new_version(connection, endpoint)


def _queue_event(tenant_id: int, tenant_slug: str, endpoints: list, event_type: str,
                 data: dict) -> list[WebhookDelivery]:
    wanted = [e for e in endpoints if not e.events or event_type in e.events]
    if not wanted:
        return []
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps({"id": event_id, "type": event_type, "created_at": clock.now().isoformat(),
                       "tenant": tenant_slug, "data": data}, separators=(",", ":"), default=str)
    return [_queue(WebhookDelivery(tenant_id=tenant_id, endpoint_id=e.id, event_id=event_id,
                                   event_type=event_type, body=body, status="pending", attempts=0))
            for e in wanted]


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """The same event (same id and body) sent again to its endpoint, as a new delivery."""
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if not endpoint.is_active:
        raise ValidationFailed("This endpoint is disabled; enable it again (create it anew) before resending.")
    return _queue(WebhookDelivery(tenant_id=delivery.tenant_id, endpoint_id=delivery.endpoint_id,
                                  event_id=delivery.event_id, event_type=delivery.event_type, body=delivery.body,
                                  status="pending", attempts=0))


def _queue(delivery: WebhookDelivery) -> WebhookDelivery:
    db.session.add(delivery)
    db.session.flush()
    outbox.enqueue(OUTBOX_KIND, {"delivery_id": delivery.id}, tenant_id=delivery.tenant_id,
                   key=f"webhook-delivery:{delivery.id}")
    return delivery


def check_url(url: str) -> str:
    """An http(s) URL; in production (WEBHOOK_ALLOW_PRIVATE_URLS off) not one resolving to a private address."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise ValidationFailed("The endpoint URL must be an http(s) URL of at most 500 characters.")
    if not current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS") and resolves_to_private(parts.hostname):
        raise ValidationFailed("The endpoint URL points to a private or loopback address; use a public one.")
    return url


def resolves_to_private(hostname: str) -> bool:
    """True if any address of `hostname` is loopback, private, link-local, reserved or unresolvable."""
    try:
        infos = socket.getaddrinfo(hostname, None)
    except (socket.gaierror, UnicodeError):
        return True
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    return any(a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_multicast
               or a.is_unspecified for a in addresses)

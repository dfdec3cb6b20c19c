"""A process keeps each tenant's active webhook endpoints (app/services/webhooks.py) while the tenant row's
webhooks_version holds: an endpoint created, disabled or deleted by another process moves it, and the next event
goes where the endpoints now say; an event with nothing changed reads no endpoint."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from app.models import Tenant, WebhookEndpoint
from app.services import webhooks


def in_another_process(app, change) -> None:
    """`change(db)` made and committed as another process makes it: its own app context, session and connection."""
    failures = []

    def run():
        with app.app_context():
            from app.extensions import db
            try:
                change(db)
                db.session.commit()
            except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
                failures.append(err)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def sent_to(db, tenant_id: int, event: str = "receipt.approved") -> list[int]:
    """The endpoints one event of the tenant is queued for (committed, as the event's operation would)."""
    endpoints = sorted(delivery.endpoint_id for delivery in webhooks.emit(tenant_id, event, {"receipt_id": 1}))
    db.session.commit()
    return endpoints


def create(tenant_id: int, url: str, events=None) -> int:
    from app.extensions import db

    return webhooks.create_endpoint(db.session.get(Tenant, tenant_id), url, events=events)[0].id


def endpoint_reads(db, call) -> int:
    seen = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return sum("FROM webhook_endpoints" in " ".join(s.split()) for s in seen)


def test_endpoints_changed_by_another_process_are_seen_by_the_next_event(app, db, make):
    tenant_id = make.tenant().id
    db.session.commit()
    assert sent_to(db, tenant_id) == []

    first = {}
    in_another_process(app, lambda _db: first.setdefault("id", create(tenant_id, "https://example.com/a")))
    assert sent_to(db, tenant_id) == [first["id"]]

    second = {}
    in_another_process(app, lambda _db: second.setdefault(
        "id", create(tenant_id, "https://example.com/b", events=["balance.changed"])))
    assert sent_to(db, tenant_id) == [first["id"]]
    assert sent_to(db, tenant_id, "balance.changed") == [first["id"], second["id"]]

    def disable(_db):  # as the delivery worker does after too many failures (webhook_delivery._fail)
        _db.session.get(WebhookEndpoint, first["id"]).is_active = False
    in_another_process(app, disable)
    assert sent_to(db, tenant_id, "balance.changed") == [second["id"]]

    def subscribe(_db):
        _db.session.get(WebhookEndpoint, second["id"]).events = ["balance.changed", "receipt.approved"]
    in_another_process(app, subscribe)
    assert sent_to(db, tenant_id) == [second["id"]]

    def delete(_db):
        webhooks.delete_endpoint(_db.session.get(WebhookEndpoint, second["id"]))
    in_another_process(app, delete)
    assert sent_to(db, tenant_id, "balance.changed") == []


def test_an_event_with_nothing_changed_reads_no_endpoint_and_a_failure_count_moves_no_version(app, db, make):
    tenant = make.tenant()
    endpoint, _secret = webhooks.create_endpoint(tenant, "https://example.com/hook")
    db.session.commit()
    assert endpoint_reads(db, lambda: sent_to(db, tenant.id)) == 1  # this process had not read them at this version
    assert endpoint_reads(db, lambda: sent_to(db, tenant.id)) == 0
    version = db.session.get(Tenant, tenant.id).webhooks_version

    def failed(_db):  # a failed delivery counts on the endpoint: no write of the tenant row
        _db.session.get(WebhookEndpoint, endpoint.id).consecutive_failures += 1
    in_another_process(app, failed)
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).webhooks_version == version
    assert endpoint_reads(db, lambda: sent_to(db, tenant.id)) == 0


def test_an_endpoint_created_in_the_same_transaction_gets_its_events(db, make):
    tenant = make.tenant()
    db.session.commit()
    assert sent_to(db, tenant.id) == []
    endpoint, _secret = webhooks.create_endpoint(tenant, "https://example.com/hook")
    assert [d.endpoint_id for d in webhooks.emit(tenant.id, "receipt.approved", {"receipt_id": 1})] == [endpoint.id]
    db.session.rollback()  # and rolled back, it is gone again
    assert sent_to(db, tenant.id) == []

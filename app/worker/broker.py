"""Distributed delivery (QUEUE_URL=redis://… or amqp://…): Dramatiq carries outbox row ids to `flask worker`s.

Why Dramatiq: a maintained task queue with Redis and RabbitMQ brokers behind one API, in-process worker
threads (`dramatiq.Worker`, so `flask worker` needs no second CLI), acks after the actor returns (a worker
killed mid-message has it redelivered), and no result backend or beat process to run. The outbox table
stays the durable record: a broker message is only "look at row N"; retries and backoff are the row's
(`not_before`), so Dramatiq's own retries are off.

Handing a row to the broker pushes its `not_before` one lease ahead: if the message is lost (a broker
restart, a worker killed before it acked), the runtime's sweeper finds the row due again and re-sends
it. The actor claims the row by id (SKIP LOCKED), so a duplicate message finds it taken or done.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq
import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow
from app.worker import delivery, load_handlers

log = logging.getLogger(__name__)

_KEY = "outbox_broker"
ACTOR = "deliver_outbox"


def queue_name(app: Flask) -> str:
    return app.config.get("OUTBOX_QUEUE_NAME", "botfleet-outbox")


def broker_for(app: Flask) -> dramatiq.Broker:
    """This app's broker (built once from QUEUE_URL) with the delivery actor declared on it."""
    if _KEY not in app.extensions:
        app.extensions[_KEY] = _build(app)
    return app.extensions[_KEY]


def _build(app: Flask) -> dramatiq.Broker:
    url = app.config["QUEUE_URL"]
    if url.startswith("redis"):
        from dramatiq.brokers.redis import RedisBroker
        broker = RedisBroker(url=url, namespace=app.config.get("OUTBOX_QUEUE_NAMESPACE", "botfleet"))
    elif url.startswith("amqp"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        raise RuntimeError(f"QUEUE_URL must be redis://… or amqp://…, not {url.split(':')[0]}://")

    def deliver_outbox(message_id: int) -> None:
        deliver_one(app, message_id)
    dramatiq.actor(deliver_outbox, actor_name=ACTOR, queue_name=queue_name(app), broker=broker, max_retries=0)
    return broker


def deliver_one(app: Flask, message_id: int) -> None:
    """The actor: claim row `message_id` (whatever its not_before) and deliver it; a taken or done row is skipped."""
    load_handlers()
    with app.app_context():
        claimed = delivery.claim(1, ids=[message_id], until=utcnow() + timedelta(days=3650))
    if claimed:
        with app.app_context():
            delivery.deliver(message_id)


class BrokerDispatcher:
    """Committed rows go to the broker; any `flask worker` on any host delivers them."""

    def __init__(self, app: Flask):
        self.app = app
        self.broker = broker_for(app)

    def kick(self, ids: list[int]) -> None:
        with self.app.app_context():
            hand_over(self.app, ids)


def hand_over(app: Flask, ids: list[int]) -> None:
    """Push the rows' not_before one lease ahead (a lost message is swept again then) and send their ids."""
    if not ids:
        return
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                       .values(not_before=utcnow() + timedelta(seconds=delivery.lease_seconds())),
                       execution_options={"synchronize_session": False})
    db.session.commit()
    broker = broker_for(app)
    for message_id in ids:
        broker.enqueue(dramatiq.Message(queue_name=queue_name(app), actor_name=ACTOR, args=(message_id,),
                                        kwargs={}, options={}))


def sweep(app: Flask, limit: int = 500) -> int:
    """Hand every due row (new from a process without a broker, rescheduled, or lost) to the broker."""
    with app.app_context():
        query = (sa.select(OutboxMessage.id).where(
            OutboxMessage.status.in_((OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)),
            OutboxMessage.not_before <= utcnow()).order_by(OutboxMessage.not_before).limit(limit))
        ids = list(db.session.scalars(query))
        hand_over(app, ids)
    return len(ids)

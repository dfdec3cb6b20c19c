"""`flask worker`: deliver the outbox from the broker named by QUEUE_URL, until SIGTERM or Ctrl-C."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--threads", default=None, type=int, help="Delivery threads (default OUTBOX_WORKERS, 4).")
@with_appcontext
def worker(threads: int | None) -> None:
    """Deliver outbox rows handed to the broker (QUEUE_URL=redis://… or amqp://…); any number, on any host."""
    import dramatiq

    from app.worker import broker, load_handlers

    app = current_app._get_current_object()
    if not app.config.get("QUEUE_URL"):
        raise click.ClickException("QUEUE_URL is not set: without a broker the runtime's in-process pool "
                                   "delivers the outbox (see docs/outbox.md).")
    load_handlers()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    running = dramatiq.Worker(broker.broker_for(app), queues={broker.queue_name(app)},
                              worker_threads=threads or app.config.get("OUTBOX_WORKERS", 4))
    running.start()
    click.echo(f"outbox worker: {running.worker_threads} threads on {broker.queue_name(app)}", err=True)
    done.wait()
    running.stop()

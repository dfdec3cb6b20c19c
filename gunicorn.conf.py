"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (the app is wsgi:app).

Every worker starts a Runtime after it loads the app; the runtimes compete for the leader lock, so
exactly one worker in the whole deployment runs the scheduler and the bots, and another takes over
within seconds when it dies.
"""
import multiprocessing
import os

wsgi_app = "wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Each worker builds its own app (and database pool) after fork: nothing is shared by accident.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Compete for the leader lock from this worker (a no-op with RUNTIME_ENABLED=0)."""
    import logging

    from app.runtime import start_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
    worker.botfleet_runtime = start_runtime(worker.wsgi)


def worker_exit(server, worker):
    """Stop the scheduler and bots and free the lock, so another worker leads at once."""
    runtime = getattr(worker, "botfleet_runtime", None)
    if runtime is not None:
        runtime.stop()

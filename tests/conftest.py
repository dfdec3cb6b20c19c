"""Shared fixtures: one app and database per run, emptied after each test, and factories.

The backend is chosen with `--db sqlite|postgres` (or TEST_DB). Postgres runs get a fresh
database on TEST_POSTGRES_URL's server, dropped at the end. Tests may commit and use threads.
"""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from tests import factories, pg
from tests.helpers import csrf_token

# Local webhook receivers are http:// on ephemeral ports; the sandbox refuses them by default
# (Telegram wants HTTPS on 443/80/88/8443). Tests of that default pass allow_http_webhooks=False.
os.environ.setdefault("SANDBOX_ALLOW_HTTP_WEBHOOKS", "1")

pytest_plugins = ["tests.outbox_fixtures", "tests.plugins.sandbox"]
# Vendored third-party suites (tests/data/third_party) run on purpose from tests/conformance.
collect_ignore = ["data"]


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgres"], default=os.environ.get("TEST_DB", "sqlite"),
                     help="database backend for the whole run")


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs Postgres (row locks, real concurrency)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "own_postgres: brings its own Postgres database (whatever --db says), so "
                                       "only the SQLite leg runs it")
    config.botfleet_pg_problem = None
    os.environ["TEST_DB"] = config.getoption("--db")  # the chosen backend, for helpers without the config
    if config.getoption("--db") == "postgres":
        config.botfleet_pg_problem = pg.server_problem(pg.admin_url())
        if config.botfleet_pg_problem and os.environ.get("CI") == "true":
            pytest.exit(f"CI needs Postgres: {config.botfleet_pg_problem}", returncode=3)


def pytest_report_header(config):
    backend = config.getoption("--db")
    if backend == "postgres" and config.botfleet_pg_problem:
        return f"database: postgres SKIPPED — {config.botfleet_pg_problem} (set TEST_POSTGRES_URL)"
    return f"database: {backend}"


#: Test folders that use no database (the sandbox, third-party clients against it): the SQLite leg runs them,
#: the Postgres leg leaves them out, since a second run would test nothing new.
DATABASE_FREE = ("tests/emulator/", "tests/conformance/",
                 # Modules that never build the app or open its database: parsers, catalogs, config, the
                 # panel sandbox's adapters and the Telegram limiter (on Redis or in memory).
                 "tests/payments/test_bank_sms_parser.py", "tests/test_translations.py", "tests/test_config.py",
                 "tests/panels/test_adapters.py", "tests/panels/test_emulator_controls.py",
                 "tests/worker/test_telegram_limits.py",
                 # The Sandbox chat page's alert dialog: browser timing, nothing backend-specific; it runs
                 # in the SQLite leg (once in a loaded Postgres run its dialog wait timed out, not yet explained).
                 "tests/test_dashboard_browser.py::test_a_refused_purchase_shows_the_bots_alert")
#: A test none of whose fixtures (direct or indirect) is one of these opens no database of the run: parsers,
#: catalogs, static checks of the code. The Postgres leg leaves it out too, unless it is marked postgres.
DATABASE_FIXTURES = {"app", "database_url", "backend"}


def pytest_collection_modifyitems(config, items):
    backend = config.getoption("--db")
    if backend == "postgres":
        _leave_out_database_free(config, items)
    if backend == "postgres" and config.botfleet_pg_problem:
        skip = pytest.mark.skip(reason=f"Postgres unavailable: {config.botfleet_pg_problem}")
    elif backend == "sqlite":
        skip = pytest.mark.skip(reason="needs Postgres: run with --db postgres")
        items = [item for item in items if "postgres" in item.keywords]
    else:
        return
    for item in items:
        item.add_marker(skip)


def _leave_out_database_free(config, items) -> None:
    free = [item for item in items if "postgres" not in item.keywords and (
        item.nodeid.startswith(DATABASE_FREE) or "own_postgres" in item.keywords
        or not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))]
    if free:
        config.hook.pytest_deselected(items=free)
        left_out = set(free)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(scope="session")
def backend(pytestconfig) -> str:
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    with pg.fresh_database(f"botfleet_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the dashboard's .po catalogs when a .mo is missing or older (make translations does the same)."""
    from pathlib import Path

    from babel.messages.frontend import CommandLineInterface

    root = Path(__file__).resolve().parent.parent / "app" / "translations"
    stale = [po for po in root.glob("*/LC_MESSAGES/*.po")
             if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if stale:
        CommandLineInterface().run(["pybabel", "-q", "compile", "-f", "-d", str(root)])


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    # Stored photos and other files go to this run's own folder, not the checkout's instance/: `make test`
    # runs the SQLite and Postgres legs side by side, and both start their ids (and so file names) at 1.
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        from app.extensions import db
        db.engine.dispose()


@pytest.fixture
def db(app):
    """The database inside an app context; every table is emptied afterwards."""
    from app.extensions import db as _db

    with app.app_context():
        yield _db
        _db.session.remove()
        _empty_all_tables(_db)
    if "telegram_limits" in app.extensions:  # Telegram's send counts (app/worker/ratelimit.py) start afresh too
        app.extensions["telegram_limits"].reset()


def _empty_all_tables(_db) -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _empty_postgres(conn, tables)
        else:
            for table in tables:
                conn.execute(table.delete())


#: A Postgres table with more rows than this is emptied by TRUNCATE (a DELETE would check each row's references).
DELETE_AT_MOST = 1_000


def _empty_postgres(conn, tables) -> None:
    """Leave what TRUNCATE ... RESTART IDENTITY of every table leaves (no rows, sequences at their start),
    deleting only from the tables that hold rows. A TRUNCATE of all ~50 tables replaces every table's and
    index's files: on the loaded 2-core machine it took 1.4-1.8 s a test, the DELETEs ~35 ms, and a run of 186
    service and API tests spent 256 s of its 374 s emptying tables that way (46 s of 184 s after).
    """
    quoted = [conn.dialect.identifier_preparer.quote(t.name) for t in tables]
    counts = conn.execute(sa.text("SELECT " + ", ".join(
        f"(SELECT count(*) FROM (SELECT FROM {name} LIMIT {DELETE_AT_MOST + 1}) AS n)" for name in quoted))).one()
    if max(counts) > DELETE_AT_MOST:
        conn.execute(sa.text(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY CASCADE"))
        return
    for name, rows in zip(quoted, counts):   # children before parents, as the SQLite branch deletes
        if rows:
            conn.execute(sa.text(f"DELETE FROM {name}"))
    # Every sequence here belongs to a table's id column (none stands alone); NULL last_value = never used.
    conn.execute(sa.text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
                         "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"))


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make(db):
    """Factories: make.tenant(), make.member(tenant, balance=...), make.bot(tenant), ..."""
    return factories.Factories(db)


@pytest.fixture
def auth(client):
    return factories.AuthActions(client)


@pytest.fixture
def owner_client(client, make, auth):
    """(client, tenant, owner): the tenant's owner signed in, in English, with the page's CSRF token as
    client.token."""
    owner = make.account()
    tenant = make.tenant(owner=owner)
    auth.use_language("en")
    auth.login(owner.email)
    client.token = csrf_token(client.get("/account/password"))
    return client, tenant, owner

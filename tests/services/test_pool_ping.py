"""Postgres connections are pinged at checkout only after sitting in the pool DB_PING_IDLE_SECONDS (app/database.py):
a dead idle connection is replaced unseen; one back in use at once costs no round trip."""
import pytest
import sqlalchemy as sa

from app import create_app
from app.database import IDLE_SINCE, ping_when_idle
from config import TestConfig

pytestmark = pytest.mark.postgres
IDLE = 5.0


@pytest.fixture
def engine(database_url):
    """One pooled connection, so every checkout gets the same one; pings counted."""
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, IDLE)
    pings = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or real_ping(dbapi_connection)
    engine.pings = pings
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()


def idle_for(engine, seconds: float) -> None:
    """Make the pooled connection look as if it went back to the pool `seconds` ago."""
    conn = engine.raw_connection()
    info = conn.info
    conn.close()
    info[IDLE_SINCE] -= seconds


def terminate(database_url, pid: int) -> None:
    other = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with other.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_a_connection_used_again_at_once_is_not_pinged_and_an_idle_one_is(engine):
    first = backend_pid(engine)
    assert [backend_pid(engine) for _ in range(3)] == [first] * 3
    assert engine.pings == []
    idle_for(engine, IDLE + 1)
    assert backend_pid(engine) == first and engine.pings == [1]
    assert backend_pid(engine) == first and engine.pings == [1]


def test_a_dead_idle_connection_is_replaced_before_anyone_uses_it(engine, database_url):
    first = backend_pid(engine)
    terminate(database_url, first)
    idle_for(engine, IDLE + 1)
    assert backend_pid(engine) != first and engine.pings == [1]


def test_a_connection_dead_within_the_idle_window_fails_one_statement_then_the_pool_recovers(engine, database_url):
    first = backend_pid(engine)
    terminate(database_url, first)
    with pytest.raises(sa.exc.OperationalError) as failure, engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    assert failure.value.connection_invalidated
    assert backend_pid(engine) != first and engine.pings == []


def test_the_app_pings_idle_connections_or_every_checkout(database_url):
    """The default pings idle connections only; DB_PING_IDLE_SECONDS=0 is SQLAlchemy's pre-ping at every checkout."""
    from app.extensions import db

    for seconds, pre_ping in ((IDLE, False), (0, True)):
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, DB_PING_IDLE_SECONDS=seconds)
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is pre_ping
        with app.app_context():
            listeners = [fn.__module__ for fn in db.engine.pool.dispatch.checkout]
            assert ("app.database" in listeners) is not pre_ping
            db.engine.dispose()

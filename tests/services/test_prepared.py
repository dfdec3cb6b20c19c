"""Statements marked `prepared` run as Postgres prepared statements (app/prepared.py): prepared once per connection,
executed by name after, prepared again on a new connection and after a failed first round trip."""
import pytest
import sqlalchemy as sa

from app import prepared

pytestmark = pytest.mark.postgres

ADD = prepared.prepared(sa.text("SELECT :x + 1 AS y, '5%' AS pct"), "test_add")
DIVIDE = prepared.prepared(sa.select(sa.literal(100) / sa.bindparam("d", type_=sa.Integer)), "test_divide")


@pytest.fixture
def engine(database_url):
    """One pooled connection, so every checkout gets the same one."""
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    prepared.init_engine(engine)
    yield engine
    engine.dispose()


def run(engine, statement, **params):
    with engine.begin() as conn:
        return conn.execute(statement, params).one()


def prepared_here(engine) -> dict:
    """{name: executions} of the statements the pooled connection holds (its custom and generic plans)."""
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements").all())


def test_a_marked_statement_is_prepared_once_and_executed_by_name(engine):
    assert [tuple(run(engine, ADD, x=n)) for n in range(7)] == [(n + 1, "5%") for n in range(7)]
    assert prepared_here(engine) == {"test_add": 7}


def test_cursor_events_see_the_statement_as_compiled(engine):
    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(statement))
    run(engine, ADD, x=1)
    run(engine, ADD, x=2)
    assert len(seen) == 2 and all(statement.startswith("SELECT") for statement in seen)


def test_a_failed_first_round_trip_prepares_again(engine):
    with pytest.raises(sa.exc.DataError):  # PREPARE ran, the EXECUTE failed
        run(engine, DIVIDE, d=0)
    assert run(engine, DIVIDE, d=4)[0] == 25
    assert run(engine, DIVIDE, d=5)[0] == 20
    assert prepared_here(engine) == {"test_divide": 2}


def test_a_new_connection_prepares_again(engine, database_url):
    run(engine, ADD, x=1)
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    other = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with other.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    with pytest.raises(sa.exc.OperationalError):  # the dropped connection fails once; the pool replaces it
        run(engine, ADD, x=2)
    assert run(engine, ADD, x=3)[0] == 4
    assert prepared_here(engine) == {"test_add": 1}


def test_first_row_runs_on_the_cursor_by_name_with_events_and_conversions(engine):
    stamped = prepared.prepared(sa.select(sa.bindparam("x", type_=sa.Integer) + 1,
                                          sa.cast(sa.literal("2026-12-01 10:00:00+00"), sa.DateTime(timezone=True)),
                                          sa.literal(b"\x01\x02", sa.LargeBinary)), "test_first_row")
    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(statement))
    for n in range(3):
        with engine.begin() as conn:
            y, at, raw = prepared.first_row(conn, stamped, {"x": n})
            assert y == n + 1 and at.tzinfo is not None and raw == b"\x01\x02" and type(raw) is bytes
    assert len(seen) == 3 and all(statement.startswith("SELECT") for statement in seen)
    assert prepared_here(engine) == {"test_first_row": 3}


def test_first_row_after_a_failed_round_trip_prepares_again(engine):
    with pytest.raises(sa.exc.DataError), engine.begin() as conn:
        prepared.first_row(conn, DIVIDE, {"d": 0})
    for d, quotient in ((4, 25), (5, 20)):
        with engine.begin() as conn:
            assert prepared.first_row(conn, DIVIDE, {"d": d}) == (quotient,)
    assert prepared_here(engine) == {"test_divide": 2}

"""Server-side prepared statements on Postgres for the few statements every update runs.

psycopg2 sends every statement as text, so Postgres parses, analyses and plans it on every request. A statement
marked with `prepared(statement, name)` is instead PREPAREd once per connection (in the same round trip as its
first EXECUTE) and EXECUTEd by name afterwards: after five executions Postgres keeps a generic plan when it is not
costlier than the custom ones (plan_cache_mode), and stops planning it per request.

Only the text the DBAPI cursor sends changes (the dialect's `do_execute` event): SQLAlchemy compiles, binds and reads
the result as before (the EXECUTE returns the prepared SELECT's columns in the same order), and its cursor events
(statement counts, logs) see the statement as compiled, once.
Which statements a connection holds is kept in the pool record's `info`, which the pool clears when it replaces
the DBAPI connection. PREPARE is not undone by a ROLLBACK, so after an error in a prepared statement's round trip
(the PREPARE may or may not have run) the connection's next one starts with DEALLOCATE ALL.

Not for a transaction-pooling pgbouncer in front of Postgres: a server connection would not hold the statements
its client prepared (docs/deploy.md connects to Postgres directly).
"""
from __future__ import annotations

import re

from sqlalchemy import event

#: The execution option naming a statement's prepared form.
OPTION = "botfleet_prepared_as"
#: In a pool record's info: {name: the statement text prepared under it}, and whether to DEALLOCATE ALL first.
_HELD, _UNSURE = "botfleet_prepared", "botfleet_prepared_unsure"
_PARAM = re.compile(r"%\((\w+)\)s|%%")


def prepared(statement, name: str):
    """`statement`, run as the prepared statement `name` on Postgres (elsewhere as it is). For statements whose
    text is fixed (no expanding IN): a text that changes would be prepared again each time it changes."""
    return statement.execution_options(**{OPTION: name})


def init_engine(engine) -> None:
    """Run the statements marked `prepared` by name on this (Postgres, psycopg2) engine's connections."""
    event.listen(engine, "do_execute", _by_name)
    event.listen(engine, "handle_error", _after_error)


def _by_name(cursor, statement, parameters, context) -> bool:
    """Execute a marked statement by name (True: done); others are left to the dialect (False)."""
    name = context.execution_options.get(OPTION)
    if name is None or not isinstance(parameters, dict):
        return False
    _send(cursor, context.root_connection.info, name, statement, parameters, context.compiled, context.dialect)
    return True


def _send(cursor, info: dict, name: str, statement: str, parameters: dict, compiled, dialect) -> None:
    """EXECUTE name(...) on `cursor`, PREPAREd first in the same round trip when the connection (its pool record's
    `info`) does not hold it yet."""
    held = info.setdefault(_HELD, {})
    known = held.get(name)
    if known is not None and known[0] == statement:
        cursor.execute(known[1], parameters)
        return
    prepare, execute = _forms(name, statement, compiled, dialect)
    if info.pop(_UNSURE, False):
        held.clear()
        prepare = f"DEALLOCATE ALL; {prepare}"
    elif known is not None:
        prepare = f"DEALLOCATE {name}; {prepare}"
    held[name] = (statement, execute)
    cursor.execute(f"{prepare}; {execute}", parameters)


def _after_error(exception_context) -> None:
    context, conn = exception_context.execution_context, exception_context.connection
    if context is not None and conn is not None and context.execution_options.get(OPTION) is not None \
            and not conn.invalidated:
        conn.info.pop(_HELD, None)
        conn.info[_UNSURE] = True


def _forms(name: str, statement: str, compiled, dialect) -> tuple[str, str]:
    """(PREPARE name (types) AS the statement, EXECUTE name(its parameters)): the pyformat parameters numbered
    in their first-use order, typed as SQLAlchemy binds them."""
    order: dict[str, int] = {}

    def number(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group(0)  # %% stays escaped: the whole text goes through psycopg2's formatting
        return f"${order.setdefault(match.group(1), len(order) + 1)}"
    body = _PARAM.sub(number, statement)
    if not order:
        return f"PREPARE {name} AS {body}", f"EXECUTE {name}"
    types = ", ".join(_type_name(dialect, compiled.binds[key].type) for key in order)
    return (f"PREPARE {name} ({types}) AS {body}",
            f"EXECUTE {name}({', '.join(f'%({key})s' for key in order)})")


def _type_name(dialect, type_) -> str:
    """The parameter's Postgres type as SQLAlchemy binds it; untyped (a text() parameter): inferred by Postgres."""
    return "unknown" if type_._isnull else dialect.type_compiler_instance.process(type_)


class _Direct:
    """What running one marked statement straight on the DBAPI cursor needs, worked out once per dialect: its text,
    the parameters that are constants of the statement (literals, already bound), which ones the caller gives and
    which of them a bind processor converts, and the result processors (read from the first execution's
    description, as SQLAlchemy reads them)."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.positional or compiled.escaped_bind_names:
            raise ValueError("a direct read needs pyformat parameters under their own names")
        self.compiled, self.text, self.name = compiled, compiled.string, statement._execution_options[OPTION]
        processors = compiled._bind_processors
        self.constants, self.given, self.converted = {}, [], []
        for bind, name in compiled.bind_names.items():
            if bind.callable is not None:
                raise ValueError("a direct read takes no callable parameter")
            if bind.required:
                self.given.append((bind.key, name))
                if name in processors:
                    self.converted.append((name, processors[name]))
            else:
                value = bind.value
                self.constants[name] = processors[name](value) if name in processors else value
        self.results: list | None = None

    def parameters(self, params: dict) -> dict:
        values = dict(self.constants)
        for key, name in self.given:
            values[name] = params[key]
        for name, process in self.converted:
            values[name] = process(values[name])
        return values

    def row(self, values: tuple, description, dialect) -> tuple:
        results = self.results
        if results is None:
            columns = self.compiled._result_columns
            results = self.results = [
                (index, processor) for index, (column, described) in enumerate(zip(columns, description))
                if (processor := column.type._cached_result_processor(dialect, described[1])) is not None]
        if not results:
            return values
        values = list(values)
        for index, process in results:
            values[index] = process(values[index])
        return tuple(values)


_directs: dict = {}


def first_row(connection, statement, params: dict) -> tuple | None:
    """The first row (a tuple, converted as SQLAlchemy converts it) of a statement marked `prepared`, or None.

    On Postgres the statement runs on the connection's DBAPI cursor, prepared by name as `do_execute` runs it, but
    without the Core execution around it (the statement cache's lookup, an execution context, a result object):
    for the statements every update runs, those were more Python than the rest of the read. What the Core execution
    does for the others it does too: the cursor events (statement counts, the tests' injected failures) see the
    statement as compiled; a DBAPI error becomes SQLAlchemy's exception, and a lost connection invalidates the
    connection as an execution would (Connection._handle_dbapi_exception); a failed round trip makes the next one
    prepare again. The listeners' return values are not taken (none here rewrites a statement). Elsewhere
    (SQLite) the statement runs as it is."""
    dialect = connection.dialect
    if dialect.name != "postgresql" or not connection.in_transaction():
        row = connection.execute(statement, params).first()
        return tuple(row) if row is not None else None
    direct = _directs.get((statement, dialect))
    if direct is None:
        direct = _directs[(statement, dialect)] = _Direct(statement, dialect)
    values = direct.parameters(params)
    text = direct.text
    cursor = None
    events = connection._has_events or connection.engine._has_events
    try:
        cursor = connection.connection.cursor()
        if events:
            connection.dispatch.before_cursor_execute(connection, cursor, text, values, None, False)
        if connection._echo:
            connection._log_info(text)
            connection._log_info("[direct] %r", values)
        _send(cursor, connection.info, direct.name, text, values, direct.compiled, dialect)
        if events:
            connection.dispatch.after_cursor_execute(connection, cursor, text, values, None, False)
        row = cursor.fetchone()
        description = cursor.description
        cursor.close()
    except BaseException as exc:
        if not connection.invalidated:
            connection.info.pop(_HELD, None)
            connection.info[_UNSURE] = True
        connection._handle_dbapi_exception(exc, text, values, cursor, None)
    return direct.row(row, description, dialect) if row is not None else None

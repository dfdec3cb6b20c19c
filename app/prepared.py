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
    info = context.root_connection.info
    held = info.setdefault(_HELD, {})
    known = held.get(name)
    if known is not None and known[0] == statement:
        cursor.execute(known[1], parameters)
        return True
    prepare, execute = _forms(name, statement, context)
    if info.pop(_UNSURE, False):
        held.clear()
        prepare = f"DEALLOCATE ALL; {prepare}"
    elif known is not None:
        prepare = f"DEALLOCATE {name}; {prepare}"
    held[name] = (statement, execute)
    cursor.execute(f"{prepare}; {execute}", parameters)
    return True


def _after_error(exception_context) -> None:
    context, conn = exception_context.execution_context, exception_context.connection
    if context is not None and conn is not None and context.execution_options.get(OPTION) is not None \
            and not conn.invalidated:
        conn.info.pop(_HELD, None)
        conn.info[_UNSURE] = True


def _forms(name: str, statement: str, context) -> tuple[str, str]:
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
    types = ", ".join(_type_name(context, context.compiled.binds[key].type) for key in order)
    return (f"PREPARE {name} ({types}) AS {body}",
            f"EXECUTE {name}({', '.join(f'%({key})s' for key in order)})")


def _type_name(context, type_) -> str:
    """The parameter's Postgres type as SQLAlchemy binds it; untyped (a text() parameter): inferred by Postgres."""
    return "unknown" if type_._isnull else context.dialect.type_compiler_instance.process(type_)

"""Write a few known ORM rows with one Core statement each, without the unit of work.

A flush of an approval's four rows (a ledger entry, an audit row, the member, the receipt) costs more
Python than the rest of the approval: the unit of work sorts mappers, collects history and builds
parameters generically. For a hot path that knows exactly which rows it changed, these write one row
each with a Core statement built once per table (and per set of changed columns), then leave the object
in the session as the flush would have: persistent, clean, with its id and defaults.

The statements are the same INSERT/UPDATE the flush would send, in the caller's transaction, so the
constraints (the ledger's (tenant, idempotency key) unique index) and triggers act as before. Objects the
caller does not pass, and tables with an `onupdate` column, are left to the ORM's flush.

`attach_row` is the read side: a row read with a Core statement (every column of the table, in table order)
becomes the persistent, clean object the ORM's loading would have made, without that machinery (a query's
compile state, row processors per entity and column): an update's context costs less than half as much so.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NO_VALUE

from app.extensions import db

_inserts: dict = {}
_updates: dict = {}
_columns: dict = {}
_loads: dict = {}
_plain: dict = {}
_by_id: dict = {}


def insert_now(obj) -> None:
    """INSERT a new object (pending in the session, or transient) now; it becomes persistent and clean.

    Columns never set on the object, or None where the column has a default, take their defaults, as in a
    flush; those come back (RETURNING: the id, the defaults, the NULLs), so nothing is loaded again later.
    The columns it sent keep the object's values, as after a flush (not parsed back: an audit row's JSON).
    """
    state = sa.inspect(obj)
    if state.persistent:
        return
    session = db.session()
    if not state.pending:
        session.add(obj)
    mapper = state.mapper
    values = {}
    for key, column in _columns_of(mapper):
        if key in state.dict:
            value = state.dict[key]
            if value is None and (column.default is not None or column.server_default is not None
                                  or column.primary_key):
                continue
            values[column.key] = value
    statement, returned = _insert_of(mapper, tuple(values))
    row = session.connection().execute(statement, values).one()
    state.dict.update(zip(returned, row))
    # What the flush does with a row it inserted: persistent and clean in the identity map, expunged again if
    # the transaction rolls back.
    session._register_persistent({state})


def update_now(obj) -> None:
    """UPDATE the changed columns of a persistent object now (nothing when none changed); it becomes clean."""
    state = sa.inspect(obj)
    mapper = state.mapper
    columns = _columns_of(mapper)
    before = state.committed_state
    changed = tuple(key for key, _column in columns  # set to another value, as the flush compares
                    if key in before and (before[key] is NO_VALUE or before[key] != state.dict.get(key)))
    if not changed:
        if before:  # only set to the values they had
            state._commit_all(state.dict, db.session().identity_map)
        return
    if any(column.onupdate is not None for _key, column in columns):
        db.session.flush()
        return
    statement = _updates.get((mapper, changed))
    if statement is None:
        table = mapper.local_table
        by_key = dict(columns)
        statement = (sa.update(table).where(table.c.id == sa.bindparam("_id"))
                     .values({by_key[key].name: sa.bindparam(f"v_{key}", type_=by_key[key].type)
                              for key in changed}))
        _updates[(mapper, changed)] = statement
    values = {f"v_{key}": state.dict[key] for key in changed}
    values["_id"] = obj.id
    db.session.connection().execute(statement, values)
    state._commit_all(state.dict, db.session().identity_map)  # as the flush leaves it: no pending change


def attach_row(model, values, session=None):
    """The persistent, clean `model` object of a row read with Core: `values` are every column of the table, in
    table order (`table_columns(model)`). The session's own object when it already has this row (as a query
    would return it, unchanged); None when the row's primary key is None (an outer join found nothing).
    `session`: the current session (db.session()), when the caller has it at hand."""
    mapper, attributes, pk_index, _identity_class = _loading_of(model)
    pk = values[pk_index]
    if pk is None:
        return None
    key = _identity_key(model, pk)
    if session is None:
        session = db.session()
    existing = session.identity_map.get(key)
    if existing is not None:
        return existing
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(zip(attributes, values))  # no attribute events: the values are its committed state
    if mapper.class_manager.dispatch.load or session.dispatch.loaded_as_persistent:
        make_transient_to_detached(obj)  # someone listens for loads: the public way, which tells them
        session.add(obj)
        return obj
    # What the ORM's loading does with a row it has not seen (sqlalchemy.orm.loading._instance): the identity
    # key, the session, the identity map. session.add would also walk every relationship for its cascade.
    state = instance_state(obj)
    state.key, state.identity_token, state.session_id = key, None, session.hash_key
    session.identity_map._add_unpresent(state, key)
    return obj


def get(model, row_id: int):
    """db.session.get for a hot path: the session's object when it has a current one, else the row read with a
    Core statement built once and attached (attach_row), without the ORM's loading. None when there is no row."""
    session = db.session()
    mapper = _loading_of(model)[0]
    existing = session.identity_map.get(_identity_key(model, row_id))
    if existing is not None and not instance_state(existing).expired:
        return existing  # what session.get returns for it, without its look-up again (an approval's second get)
    if existing is not None or not plain_loading(model):
        return session.get(model, row_id)  # expired: loaded again
    if session.autoflush:  # as the ORM's load would
        session.flush()
    select = _by_id.get(model)
    if select is None:
        select = _by_id[model] = sa.select(*table_columns(model)).where(
            mapper.local_table.c.id == sa.bindparam("row_id"))
    row = session.connection().execute(select, {"row_id": row_id}).first()
    return attach_row(model, row) if row is not None else None


def refresh_row(model, values):
    """What a query with populate_existing makes of a row read with Core (every column, in table order): the
    session's object of this row with its columns set to `values` and its unflushed changes of them dropped,
    its loaded relationships reset to load again; a new persistent object (attach_row) when the session has none.
    Only for a model whose `plain_loading` is true: the caller checks, and queries with the ORM otherwise."""
    mapper, attributes, pk_index, _identity_class = _loading_of(model)
    session = db.session()
    existing = session.identity_map.get(_identity_key(model, values[pk_index]))
    if existing is None:
        return attach_row(model, values)
    state = sa.inspect(existing)
    state.dict.update(zip(attributes, values))
    for key in mapper.relationships.keys():
        state.dict.pop(key, None)
    state._commit_all(state.dict, session.identity_map)  # as the ORM's refresh leaves it: no pending change
    return existing


def plain_loading(model) -> bool:
    """True when a Core read of the table's columns gives what the ORM's loading would (refresh_row, attach_row):
    no deferred column, no eagerly loaded relationship, nobody listening for loads or refreshes."""
    plain = _plain.get(model)
    if plain is None:
        mapper = _loading_of(model)[0]
        dispatch = mapper.class_manager.dispatch
        plain = _plain[model] = not (
            any(prop.deferred for prop in mapper.column_attrs)
            or any(rel.lazy not in ("select", True) for rel in mapper.relationships)
            or dispatch.load or dispatch.refresh)
    return plain and not db.session().dispatch.loaded_as_persistent


def table_columns(model) -> list[sa.Column]:
    """The table's columns in the order `attach_row` takes their values."""
    return [column for _key, column in _columns_of(sa.inspect(model))]


def _identity_key(model, pk) -> tuple:
    """The identity map's key of the `model` row `pk`: mapper.identity_key_from_primary_key((pk,)), without its
    call (a hot path's every row)."""
    return _loading_of(model)[3], (pk,), None


def _loading_of(model) -> tuple:
    """(mapper, attribute keys in table order, index of the primary key, identity class) of a model: built
    once."""
    cached = _loads.get(model)
    if cached is None:
        # A query configures the mappers on first use; a process whose first rows come through here (a fresh
        # web worker's first webhook) must too, or the objects' attributes have no implementation yet.
        sa.orm.configure_mappers()
        mapper = sa.inspect(model)
        columns = _columns_of(mapper)
        (pk,) = mapper.local_table.primary_key.columns
        cached = _loads[model] = (mapper, tuple(key for key, _column in columns),
                                  [column for _key, column in columns].index(pk), mapper._identity_class)
    return cached


def _columns_of(mapper) -> tuple:
    """(attribute key, column) of every column of the mapper's table."""
    cached = _columns.get(mapper)
    if cached is None:
        cached = _columns[mapper] = tuple((mapper.get_property_by_column(column).key, column)
                                          for column in mapper.local_table.columns)
    return cached


def _insert_of(mapper, sent: tuple) -> tuple:
    """(the INSERT of the columns `sent` (column keys) returning the others, their attribute keys): built once
    per table and set of columns."""
    cached = _inserts.get((mapper, sent))
    if cached is None:
        others = [(key, column) for key, column in _columns_of(mapper) if column.key not in sent]
        cached = _inserts[(mapper, sent)] = (
            sa.insert(mapper.local_table).returning(*(column for _key, column in others)),
            tuple(key for key, _column in others))
    return cached

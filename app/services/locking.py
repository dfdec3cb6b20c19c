"""Row locks that serialize writers on Postgres and SQLite alike."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.services import rowwrites


def lock_row(model, row_id: int, *, tenant_id: int | None = None):
    """Lock one row for the rest of the transaction and return it fresh from the database.

    Postgres: SELECT ... FOR NO KEY UPDATE, which serializes writers of the row but, unlike FOR UPDATE,
    lets other transactions insert rows that reference it (their foreign-key check takes KEY SHARE);
    with FOR UPDATE, "lock tenant, then wait for X" deadlocks against "hold X, insert a ledger entry". SQLite has no row locks, so a no-op UPDATE first takes the
    database write lock (held until commit), which serializes writers the same way.
    """
    held = _held_in_this_transaction(model, row_id, tenant_id)
    if held is not None:
        return held
    sqlite_update, select, core_select = _lock_statements(model, tenant_id is not None)
    params = {"lock_id": row_id, "lock_tenant_id": tenant_id}
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sqlite_update, params, execution_options={"synchronize_session": False})
    if rowwrites.plain_loading(model):
        row = next(iter(_core_locked(core_select, params, model)), None)
    else:
        row = db.session.scalars(select, params).one_or_none()
    if row is not None:
        remember_locked(row)
    return row


def update_locked(model, statement, params: dict):
    """Lock one row by changing it: `statement` is an UPDATE of `model`'s table that matches at most one row and
    RETURNs every column in table order (rowwrites.table_columns). The row as lock_row returns it (the session's
    refreshed object, held until the transaction ends), or None when the UPDATE matched nothing.

    For a transition that knows its new values and the state it needs (a compare-and-set): one statement where
    lock_row, then the UPDATE, take two. A plain UPDATE takes the same row lock as lock_row on both databases.
    """
    session = db.session()
    if session.autoflush:  # as a query would
        session.flush()
    row = session.connection().execute(statement, params).first()
    if row is None:
        return None
    if rowwrites.plain_loading(model):
        locked = rowwrites.refresh_row(model, row)
    else:  # someone listens for loads: the ORM's own refresh (one more statement)
        locked = session.get(model, row.id, populate_existing=True)
    remember_locked(locked)
    return locked


def _core_locked(core_select, params: dict, model) -> list:
    """The rows of a locking SELECT of every column, as the ORM's populate_existing query would return them
    (rowwrites.refresh_row): its row loading costs an approval more Python than the statement."""
    session = db.session()
    if session.autoflush:  # as the ORM query would
        session.flush()
    rows = session.connection().execute(core_select, params).all()
    return [rowwrites.refresh_row(model, row) for row in rows]


_statements: dict = {}


def _lock_statements(model, by_tenant: bool) -> tuple:
    """(SQLite's lock-taking UPDATE, the locking ORM SELECT, the same SELECT of the table's columns) of one row
    by id (and tenant): built once per model."""
    cached = _statements.get((model, by_tenant))
    if cached is None:
        columns = model.__table__.c
        conditions = [model.id == sa.bindparam("lock_id")]
        core_conditions = [columns.id == sa.bindparam("lock_id")]
        if by_tenant:
            conditions.append(model.tenant_id == sa.bindparam("lock_tenant_id"))
            core_conditions.append(columns.tenant_id == sa.bindparam("lock_tenant_id"))
        cached = _statements[(model, by_tenant)] = (
            sa.update(model).where(*conditions).values(id=model.id),
            sa.select(model).where(*conditions).with_for_update(key_share=True)
            .execution_options(populate_existing=True),
            _core_select(model, core_conditions))
    return cached


def _core_select(model, conditions, order_by=None):
    """The locking SELECT of every column of `model`'s table in table order (rowwrites.refresh_row's input);
    `conditions` on the table's columns (ORM attributes would make it an ORM query)."""
    select = sa.select(*rowwrites.table_columns(model)).where(*conditions)
    if order_by is not None:
        select = select.order_by(order_by)
    return select.with_for_update(key_share=True)


def remember_locked(row) -> None:
    """Note that this transaction holds `row`'s lock (it locked or inserted it) until it ends.

    A second lock_row of the row in the same transaction then costs no statement: nobody else can have
    changed it, and this transaction's own changes are on the object already.
    """
    _locked_now().add((type(row), row.id))


def _held_in_this_transaction(model, row_id: int, tenant_id: int | None):
    if (model, row_id) not in _locked_now():
        return None
    row = db.session().identity_map.get(identity_key(model, row_id))
    return row if row is not None and (tenant_id is None or row.tenant_id == tenant_id) else None


def _locked_now() -> set:
    """The rows locked in the session's innermost transaction (a new one, or a savepoint, starts empty)."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    memo = session.info.get("botfleet_locked")
    if memo is None or memo[0] is not transaction:
        memo = (transaction, set())
        session.info["botfleet_locked"] = memo
    return memo[1]


def lock_rows(model, *conditions, order_by=None) -> list:
    """Lock every row matching `conditions`, in `order_by` order (default id) so lockers never deadlock."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(model).where(*conditions).values(id=model.id),
            execution_options={"synchronize_session": False},
        )
    stmt = (sa.select(model).where(*conditions).order_by(order_by if order_by is not None else model.id)
            .with_for_update(key_share=True).execution_options(populate_existing=True))
    return list(db.session.scalars(stmt))


def lock_member_and_referrer(tenant_id: int, member_id: int) -> tuple:
    """Lock a member and, when its referral bonus is still due, its referrer: one statement, id order.

    Returns (member, referrer or None). The referrer is found by a sub-select read before the lock; if
    the locked row names another referrer (set_referrer ran in between), TryAgain asks for a rerun
    rather than lock out of order.
    """
    from app.models import Member
    from app.services.errors import NotFound, TryAgain

    sqlite_update, select, core_select = _member_and_referrer_statements()
    params = {"lock_member_id": member_id, "lock_tenant_id": tenant_id}
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sqlite_update, params, execution_options={"synchronize_session": False})
    locked = (_core_locked(core_select, params, Member) if rowwrites.plain_loading(Member)
              else db.session.scalars(select, params))
    rows = {m.id: m for m in locked}
    for row in rows.values():
        remember_locked(row)
    member = rows.get(member_id)
    if member is None:
        raise NotFound("This member no longer exists.")
    if member.referred_by_id is None or member.referral_rewarded_at is not None:
        return member, None
    if member.referred_by_id not in rows:
        raise TryAgain("The member changed while this was being decided; please try again.")
    return member, rows[member.referred_by_id]


def _member_and_referrer_statements() -> tuple:
    """lock_rows' statements for lock_member_and_referrer (and the same SELECT of the table's columns), built
    once (bound: lock_member_id, lock_tenant_id; not a column name, which the UPDATE would take)."""
    from app.models import Member

    cached = _statements.get("member_and_referrer")
    if cached is None:
        member_id, tenant_id = sa.bindparam("lock_member_id"), sa.bindparam("lock_tenant_id")
        owed = (sa.select(Member.referred_by_id).where(Member.id == member_id, Member.tenant_id == tenant_id,
                                                       Member.referral_rewarded_at.is_(None)).scalar_subquery())
        conditions = (Member.tenant_id == tenant_id, sa.or_(Member.id == member_id, Member.id == owed))
        columns = Member.__table__.c
        core_owed = (sa.select(columns.referred_by_id).where(columns.id == member_id, columns.tenant_id == tenant_id,
                                                             columns.referral_rewarded_at.is_(None)).scalar_subquery())
        core_conditions = (columns.tenant_id == tenant_id, sa.or_(columns.id == member_id, columns.id == core_owed))
        cached = _statements["member_and_referrer"] = (
            sa.update(Member).where(*conditions).values(id=Member.id),
            sa.select(Member).where(*conditions).order_by(Member.id).with_for_update(key_share=True)
            .execution_options(populate_existing=True),
            _core_select(Member, core_conditions, order_by=columns.id))
    return cached

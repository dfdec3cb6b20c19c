"""app/services/rowwrites.py: a row written with one Core statement ends as the unit of work would leave it."""
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.models import AuditLog, Member, Tenant
from app.services import rowwrites
from app.services.locking import lock_row
from tests.hardening.test_approval_locks import StatementLog

ROOT = Path(__file__).resolve().parents[2]


def test_an_inserted_row_has_its_id_and_defaults_and_is_clean(db, make):
    tenant = make.tenant()
    row = AuditLog(tenant_id=tenant.id, actor="system", action="test.insert", target=None)
    db.session.add(row)
    with StatementLog(db.engine) as log:
        rowwrites.insert_now(row)
        assert row.id is not None and row.data == {} and row.created_at is not None  # Python-side defaults
    assert len(log.statements) == 1, log.statements  # the INSERT ... RETURNING: nothing loaded afterwards
    assert row in db.session and not db.session.new and not db.session.dirty
    db.session.commit()
    stored = db.session.execute(sa.select(AuditLog.__table__).where(AuditLog.__table__.c.id == row.id)).one()
    assert (stored.action, stored.data, stored.target) == ("test.insert", {}, None)


def test_an_inserted_row_leaves_the_session_when_its_transaction_rolls_back(db, make):
    tenant = make.tenant()
    db.session.commit()
    row = AuditLog(tenant_id=tenant.id, actor="system", action="test.rollback", target=None)
    db.session.add(row)
    rowwrites.insert_now(row)
    assert sa.inspect(row).persistent
    db.session.rollback()  # as after a flush: the row never existed, so neither does the object in the session
    assert sa.inspect(row).transient and row not in db.session
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "test.rollback")) == 0


def test_an_update_writes_only_the_changed_columns_and_leaves_the_row_clean(db, make):
    member = make.member(make.tenant())
    db.session.commit()
    before = db.session.execute(sa.select(Member.__table__).where(Member.__table__.c.id == member.id)).one()
    member.balance += 7_000
    member.first_name = member.first_name  # set to the value it had: not written
    rowwrites.update_now(member)
    assert not db.session.dirty
    db.session.commit()
    db.session.expire_all()
    after = db.session.get(Member, member.id)
    assert after.balance == before.balance + 7_000 and after.first_name == before.first_name


def _core_row(db, model, row_id):
    columns = rowwrites.table_columns(model)
    return tuple(db.session.connection().execute(sa.select(*columns).where(model.__table__.c.id == row_id)).one())


def test_an_attached_row_is_the_object_a_query_would_load(db, make):
    member = make.member(make.tenant())
    db.session.commit()
    member_id, tenant_id = member.id, member.tenant_id
    db.session.expunge_all()
    row = _core_row(db, Member, member_id)
    with StatementLog(db.engine) as log:
        attached = rowwrites.attach_row(Member, row)
    assert log.statements == []
    state = sa.inspect(attached)
    assert state.persistent and not state.modified and not db.session.dirty
    assert db.session.get(Member, member_id) is attached  # in the identity map: no second object
    assert attached.tenant.id == tenant_id  # relationships load as on a loaded object
    loaded = {c.key: getattr(attached, c.key) for c in sa.inspect(Member).column_attrs}
    db.session.expunge_all()
    queried = db.session.get(Member, member_id)
    assert loaded == {c.key: getattr(queried, c.key) for c in sa.inspect(Member).column_attrs}
    db.session.expunge_all()

    attached = rowwrites.attach_row(Member, row)
    attached.first_name = "Changed"
    with StatementLog(db.engine) as log:
        db.session.flush()
    assert len(log.statements) == 1 and log.statements[0].lstrip().upper().startswith("UPDATE"), log.statements
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(Member, member_id).first_name == "Changed"


def test_attaching_a_row_the_session_has_returns_its_object_and_nulls_are_none(db, make):
    member = make.member(make.tenant())
    db.session.commit()
    member.first_name = "Unsaved"  # the session's own object wins, as in a query without populate_existing
    assert rowwrites.attach_row(Member, _core_row(db, Member, member.id)) is member
    assert member.first_name == "Unsaved"
    assert rowwrites.attach_row(Member, (None,) * len(rowwrites.table_columns(Member))) is None


def test_a_process_whose_first_rows_are_attached_configures_the_mappers():
    """A fresh web worker's first webhook reads its bot through attach_row before any ORM query: the mappers
    must be configured by then (attributes of an unconfigured mapper have no implementation)."""
    code = ("import sqlalchemy as sa\n"
            "from app.models import Bot\n"
            "from app.services import rowwrites\n"
            "assert not sa.inspect(Bot).configured, 'already configured: this test would prove nothing'\n"
            "rowwrites.attach_row(Bot, (None,) * len(rowwrites.table_columns(Bot)))\n"
            "assert sa.inspect(Bot).configured and Bot.is_active.impl is not None\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_locked_row_is_refreshed_as_populate_existing_would(db, make):
    """lock_row reads the row with Core (rowwrites.refresh_row): the session's object gets the stored values,
    its unflushed changes are dropped and its relationships load again."""
    tenant = make.tenant()
    member, other = make.member(tenant), make.member(tenant)
    member.referred_by_id = None
    db.session.commit()
    assert member.referred_by is None  # loaded
    db.session.execute(sa.update(Member.__table__).where(Member.__table__.c.id == member.id)
                       .values(balance=4_000, referred_by_id=other.id))  # behind the ORM's back
    member.first_name = "Unflushed"
    with db.session.no_autoflush:
        locked = lock_row(Member, member.id, tenant_id=tenant.id)
    assert locked is member
    assert (locked.balance, locked.referred_by_id, locked.referred_by) == (4_000, other.id, other)
    assert locked.first_name != "Unflushed" and not db.session.dirty


def test_get_attaches_a_row_the_session_lacks_and_returns_the_one_it_has(db, make):
    tenant = make.tenant()
    db.session.commit()
    tenant_id = tenant.id
    db.session.expunge_all()
    with StatementLog(db.engine) as log:
        read = rowwrites.get(Tenant, tenant_id)
        again = rowwrites.get(Tenant, tenant_id)
    assert len(log.statements) == 1 and read is again and read.id == tenant_id
    assert sa.inspect(read).persistent and not db.session.dirty
    assert rowwrites.get(Tenant, tenant_id + 10_000) is None

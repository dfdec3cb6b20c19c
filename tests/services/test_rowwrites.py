"""app/services/rowwrites.py: a row written with one Core statement ends as the unit of work would leave it."""
import sqlalchemy as sa

from app.models import AuditLog, Member
from app.services import rowwrites
from tests.hardening.test_approval_locks import StatementLog


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

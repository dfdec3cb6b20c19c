import threading

import pytest
import sqlalchemy as sa

from app.models import Member, Tenant
from app.services.members import get_or_create_member


def test_get_or_create_returns_the_same_member_the_second_time(db, make):
    tenant = make.tenant()
    first, created = get_or_create_member(tenant, 4242, language_code="en")
    again, created_again = get_or_create_member(tenant, 4242, language_code="ru")
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.language_code == "en" and first.referral_code


def test_the_same_telegram_id_is_two_members_in_two_tenants(db, make):
    a, _ = get_or_create_member(make.tenant(), 4242)
    b, _ = get_or_create_member(make.tenant(), 4242)
    assert a.id != b.id



def test_a_member_inserted_in_one_statement_has_the_columns_the_orm_would_give(db, make):
    """insert_or_find_member binds every column itself (a compiled-once text INSERT): each default as the ORM's."""
    tenant = make.tenant()
    inserted, created = get_or_create_member(tenant, 4343, first_name="Ali", language_code="fa")
    by_orm = Member(tenant_id=tenant.id, telegram_id=4344, first_name="Ali", language_code="fa", referral_code="x")
    db.session.add(by_orm)
    db.session.flush()
    db.session.expire_all()
    skip = {"id", "telegram_id", "referral_code", "created_at"}
    columns = [c.key for c in sa.inspect(Member).column_attrs if c.key not in skip]
    assert created and {c: getattr(inserted, c) for c in columns} == {c: getattr(by_orm, c) for c in columns}
    assert inserted.created_at is not None and abs((inserted.created_at - by_orm.created_at).total_seconds()) < 60
    assert (inserted.level, inserted.is_newcomer, inserted.balance, inserted.total_xp) == (1, True, 0, 0)

@pytest.mark.postgres
def test_two_bots_seeing_a_new_user_at_once_make_one_member(app, db, make):
    tenant_id = make.tenant().id   # read here: the factory's object belongs to this thread's session
    start, results, errors = threading.Barrier(6), [], []

    def first_contact():
        with app.app_context():
            from app.extensions import db as thread_db
            try:
                start.wait()
                member, created = get_or_create_member(thread_db.session.get(Tenant, tenant_id), 777)
                thread_db.session.commit()
                results.append((member.id, created))
            except Exception as err:  # noqa: BLE001 - reported by the assertion below
                errors.append(err)

    threads = [threading.Thread(target=first_contact) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({member_id for member_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.telegram_id == 777)) == 1

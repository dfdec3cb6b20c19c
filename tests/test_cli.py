import sqlalchemy as sa

from app.models import (
    Account,
    Bot,
    LedgerEntry,
    Member,
    Membership,
    PaymentCard,
    Plan,
    Receipt,
    ReceiptStatus,
    Tenant,
)
from app.services import demo


def table_counts(db):
    models = (Account, Tenant, Membership, Bot, Member, Plan, PaymentCard, Receipt, LedgerEntry)
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models}


def test_seed_demo_creates_everything_once(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert demo.DEMO_EMAIL in first.output and demo.DEMO_PASSWORD in first.output
    counts = table_counts(db)
    assert counts["Plan"] == 3 and counts["PaymentCard"] == 3 and counts["Member"] == 30 and counts["Bot"] == 1
    statuses = set(db.session.scalars(sa.select(Receipt.status)))
    assert statuses == {s.value for s in ReceiptStatus}

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "nothing changed" in second.output
    assert table_counts(db) == counts


def test_seeded_balances_equal_their_ledger(runner, db):
    runner.invoke(args=["seed-demo"])
    sums = dict(db.session.execute(sa.select(LedgerEntry.member_id, sa.func.sum(LedgerEntry.amount))
                                   .where(LedgerEntry.member_id.is_not(None)).group_by(LedgerEntry.member_id)).all())
    members = db.session.scalars(sa.select(Member)).all()
    assert any(m.balance > 0 for m in members)
    for member in members:
        assert member.balance == sums.get(member.id, 0)


def test_create_account_and_tenant(runner, db):
    result = runner.invoke(args=["create-account", "--email", "Boss@Example.com", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-tenant", "--name", "Shop One", "--owner-email", "boss@example.com"])
    assert result.exit_code == 0, result.output
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.name == "Shop One"))
    assert tenant.slug == "shop-one"
    assert db.session.scalar(sa.select(Membership.role).where(Membership.tenant_id == tenant.id)) == "owner"


def test_cli_refuses_bad_input_with_a_clear_message(runner, db):
    short = runner.invoke(args=["create-account", "--email", "a@b.co", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    runner.invoke(args=["create-account", "--email", "a@b.co", "--password", "long-enough-1"])
    dup = runner.invoke(args=["create-account", "--email", "A@B.CO", "--password", "long-enough-1"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    orphan = runner.invoke(args=["create-tenant", "--name", "X", "--owner-email", "nobody@example.com"])
    assert orphan.exit_code != 0 and "No account" in orphan.output
    assert table_counts(db)["Tenant"] == 0 and table_counts(db)["Account"] == 1

import sqlalchemy as sa

from app.models import (
    Account,
    Bot,
    DailyStat,
    LedgerEntry,
    Member,
    Membership,
    PaymentCard,
    Plan,
    Promocode,
    Receipt,
    ReceiptStatus,
    Tenant,
)
from app.services import demo


def table_counts(db):
    models = (Account, Tenant, Membership, Bot, Member, Plan, PaymentCard, Receipt, LedgerEntry, Promocode)
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models}


def test_seed_demo_creates_everything_once(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert demo.DEMO_EMAIL in first.output and demo.DEMO_PASSWORD in first.output
    counts = table_counts(db)
    assert counts["Plan"] == 3 and counts["PaymentCard"] == 3 and counts["Member"] == 30 + demo.REGULARS and counts["Bot"] == 2
    assert counts["Promocode"] == 1
    statuses = set(db.session.scalars(sa.select(Receipt.status)))
    assert statuses == {s.value for s in ReceiptStatus}
    # a month of history: members joined and money approved on many days, snapshotted for the charts
    stats = db.session.scalars(sa.select(DailyStat)).all()
    assert sum(s.new_members for s in stats) >= 20 and len({s.day for s in stats if s.revenue}) >= 3
    assert db.session.scalar(sa.select(Account.is_platform_admin).where(Account.email == demo.DEMO_EMAIL))

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


def test_make_run_frames_the_logins_and_sends_access_lines_to_a_file(app, tmp_path):
    import logging

    from app.devserver import access_log_to_file, login_box

    box = login_box(["Dashboard: http://127.0.0.1:5000/login", "Demo login: demo@botfleet.local / x"]).splitlines()
    assert box[0] == box[-1] and box[0].startswith("+-") and all(line.startswith("| ") for line in box[1:-1])
    assert len({len(line) for line in box}) == 1
    saved = app.instance_path, logging.getLogger("werkzeug").handlers[:], logging.getLogger("werkzeug").propagate
    app.instance_path = str(tmp_path)
    try:
        path = access_log_to_file(app)
        logging.getLogger("werkzeug").info('127.0.0.1 - - "GET /overview/ HTTP/1.1" 200 -')
        for handler in logging.getLogger("werkzeug").handlers:
            handler.flush()
        assert "GET /overview/" in path.read_text()
    finally:
        werkzeug_log = logging.getLogger("werkzeug")
        app.instance_path, werkzeug_log.handlers[:], werkzeug_log.propagate = saved

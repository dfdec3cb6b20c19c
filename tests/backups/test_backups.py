"""Backups: seal/unseal, retention, a backup -> restore round trip on the suite's backend, S3 through moto."""
from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.models import BackupRun, LedgerEntry, Member
from app.services import backups, ledger
from app.services.backups import sealed, stores
from tests import pg

KEY = Fernet.generate_key().decode()


@pytest.fixture
def backup_config(app, tmp_path):
    saved = {k: app.config.get(k) for k in ("BACKUP_ENCRYPTION_KEY", "BACKUP_TARGET", "BACKUP_S3_ENDPOINT_URL")}
    app.config.update(BACKUP_ENCRYPTION_KEY=KEY, BACKUP_TARGET=str(tmp_path / "store"))
    yield app.config
    app.config.update(saved)


def test_seal_round_trip_and_refusals(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x" * (3 * sealed.FRAME + 17) + bytes(range(256)))
    packed, back = tmp_path / "packed.bfb", tmp_path / "back"
    sealed.seal(plain, packed, KEY)
    assert b"xxxx" not in packed.read_bytes()
    sealed.unseal(packed, back, KEY)
    assert back.read_bytes() == plain.read_bytes()

    with pytest.raises(sealed.BackupCorrupt, match="wrong key"):
        sealed.unseal(packed, tmp_path / "b2", Fernet.generate_key().decode())
    truncated = tmp_path / "truncated.bfb"
    truncated.write_bytes(packed.read_bytes()[:-50])
    with pytest.raises(sealed.BackupCorrupt):
        sealed.unseal(truncated, tmp_path / "b3", KEY)


def test_retention_keeps_daily_and_weekly_copies():
    start = datetime(2026, 9, 1, 2, 30, tzinfo=UTC)
    names = [stores.backup_name(start + timedelta(days=d, hours=h), "sqlite") for d in range(60) for h in (0, 5)]
    doomed = set(stores.to_delete(names, keep_daily=7, keep_weekly=4))
    kept = sorted(set(names) - doomed)
    # The newest copy of each of the last 7 days (Oct 24-30), and of the last 4 ISO weeks: the weeks
    # ending Nov 1 and Oct 25 are already kept as daily copies, so Oct 18 and Oct 11 are added.
    assert [stores.taken_at(n).day for n in kept] == [11, 18, 24, 25, 26, 27, 28, 29, 30]
    assert all(stores.taken_at(n).hour == 7 for n in kept)


def seed_money(make):
    tenant = make.tenant()
    members = [make.member(tenant) for _ in range(5)]
    for i, member in enumerate(members):
        ledger.credit_member(member, 1000 * (i + 1), key=f"seed:{i}", kind="adjustment")
    ledger.debit_member(members[0], 300, key="seed:debit", kind="adjustment")
    return tenant


def assert_books_balance(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        sums = dict(conn.execute(sa.select(LedgerEntry.member_id, sa.func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.member_id.is_not(None)).group_by(LedgerEntry.member_id)).all())
        balances = dict(conn.execute(sa.select(Member.id, Member.balance)).all())
    engine.dispose()
    assert len(balances) == 5 and sum(balances.values()) == 15_000 - 300
    assert balances == {mid: sums.get(mid, 0) for mid in balances}


@pytest.fixture
def empty_database(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with pg.fresh_database(f"botfleet_restore_{uuid.uuid4().hex[:10]}") as url:
        yield url


def test_backup_then_restore_into_an_empty_database(runner, db, make, backup_config, empty_database):
    seed_money(make)
    db.session.commit()
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    run = db.session.scalar(sa.select(BackupRun))
    assert run.status == "ok" and run.size_bytes > 0 and Path(run.location).exists()

    restored = runner.invoke(args=["restore", run.location, "--into", empty_database])
    assert restored.exit_code == 0, restored.output
    assert_books_balance(empty_database)

    again = runner.invoke(args=["restore", run.location, "--into", empty_database])
    assert again.exit_code != 0 and "not empty" in again.output


def test_backup_without_key_fails_and_alerts_the_platform_admin(runner, db, make, auth, backup_config):
    backup_config["BACKUP_ENCRYPTION_KEY"] = None
    result = runner.invoke(args=["backup"])
    assert result.exit_code != 0 and "BACKUP_ENCRYPTION_KEY" in result.output
    assert not list(Path(backup_config["BACKUP_TARGET"]).glob("*"))
    admin = make.account(platform_admin=True)
    db.session.commit()
    auth.login(admin.email)
    auth.use_language("en")
    page = auth.client.get("/admin/tenants").get_data(as_text=True)
    assert 'id="backup-failed"' in page and "BACKUP_ENCRYPTION_KEY is not set" in page


def test_scheduled_job_backs_up_and_prunes(app, db, make, backup_config):
    from app.jobs.backups import scheduled_backup

    seed_money(make)
    db.session.commit()
    for day in range(10):
        assert scheduled_backup(datetime(2026, 11, 1 + day, 2, 30, tzinfo=UTC)) == "ok"
        db.session.commit()
    names = stores.DirectoryStore(Path(backup_config["BACKUP_TARGET"])).names()
    # Nov 4-10 daily; weekly: the ISO weeks ending Nov 15 and Nov 8 are daily copies, plus Nov 1.
    assert [stores.taken_at(n).day for n in names] == [1, 4, 5, 6, 7, 8, 9, 10]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BackupRun).where(BackupRun.status == "ok")) == 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    """A local S3 stand-in (moto's server) over real HTTP."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="backups")
    yield endpoint
    server.stop()


def test_backup_to_an_s3_bucket_and_restore_from_it(runner, db, make, backup_config, empty_database, s3):
    seed_money(make)
    db.session.commit()
    backup_config.update(BACKUP_TARGET="s3://backups/botfleet", BACKUP_S3_ENDPOINT_URL=s3)
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    location = db.session.scalar(sa.select(BackupRun.location))
    assert location.startswith("s3://backups/botfleet/botfleet-")
    assert stores.open_store("s3://backups/botfleet", s3).names() == [location.rsplit("/", 1)[-1]]
    restored = runner.invoke(args=["restore", location, "--into", empty_database])
    assert restored.exit_code == 0, restored.output
    assert_books_balance(empty_database)

"""Backups of the whole database: dump, seal (compress + encrypt), store, prune; and restore.

`backup_now` is called by `flask backup` and the scheduled job; `record_run` keeps the outcome for the
platform admin (last backup's time and size; a failed one is shown as an alert on the platform pages).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.extensions import db
from app.models import BackupRun
from app.models.types import utcnow
from app.services.backups import dumps, sealed, stores
from app.services.backups.dumps import DumpFailed
from app.services.backups.sealed import BackupCorrupt
from app.services.errors import DomainError


class BackupFailed(DomainError):
    """A backup or restore could not be made; the message says why (never a secret)."""


@dataclass(frozen=True)
class BackupResult:
    name: str
    location: str
    size_bytes: int
    pruned: list[str]


def backup_now(config, database_url: str, *, target: str | None = None, now: datetime | None = None,
               prune: bool = True) -> BackupResult:
    key, target = _key(config), target or config.get("BACKUP_TARGET")
    if not target:
        raise BackupFailed("No backup target: set BACKUP_TARGET to a directory or s3://bucket/prefix.")
    store = stores.open_store(target, config.get("BACKUP_S3_ENDPOINT_URL"))
    name = stores.backup_name(now or utcnow(), dumps.backend_of(database_url))
    with tempfile.TemporaryDirectory(prefix="botfleet-backup-") as tmp:
        plain, packed = Path(tmp) / "dump", Path(tmp) / name
        _guard(lambda: dumps.dump(database_url, plain))
        size = sealed.seal(plain, packed, key)
        location = _guard(lambda: store.put(packed, name))
    pruned = _prune(store, config) if prune else []
    return BackupResult(name, location, size, pruned)


def restore(config, source: str, into_url: str) -> None:
    """Restore a sealed backup (a file path, or s3://bucket/prefix/name) into an empty database."""
    key = _key(config)
    with tempfile.TemporaryDirectory(prefix="botfleet-restore-") as tmp:
        packed, plain = Path(tmp) / "backup.bfb", Path(tmp) / "dump"
        _guard(lambda: _fetch(config, source, packed))
        _guard(lambda: sealed.unseal(packed, plain, key))
        _guard(lambda: dumps.restore(plain, into_url))


def record_run(result: BackupResult | None, error: str | None, started_at: datetime) -> BackupRun:
    run = BackupRun(status="ok" if result else "failed", location=result.location if result else None,
                    size_bytes=result.size_bytes if result else None, error=(error or None) and error[:500],
                    started_at=started_at, finished_at=utcnow())
    db.session.add(run)
    db.session.flush()
    return run


def last_run() -> BackupRun | None:
    return db.session.scalar(sa.select(BackupRun).order_by(BackupRun.started_at.desc(), BackupRun.id.desc()).limit(1))


def last_success() -> BackupRun | None:
    return db.session.scalar(sa.select(BackupRun).where(BackupRun.status == "ok")
                             .order_by(BackupRun.started_at.desc(), BackupRun.id.desc()).limit(1))


def _fetch(config, source: str, local: Path) -> None:
    if source.startswith("s3://"):
        location, _, name = source.rpartition("/")
        stores.open_store(location, config.get("BACKUP_S3_ENDPOINT_URL")).get(name, local)
    else:
        stores.DirectoryStore(Path(source).parent).get(Path(source).name, local)


def _prune(store, config) -> list[str]:
    doomed = stores.to_delete(store.names(), config.get("BACKUP_KEEP_DAILY", 7), config.get("BACKUP_KEEP_WEEKLY", 4))
    for name in doomed:
        store.delete(name)
    return doomed


def _key(config) -> str:
    key = config.get("BACKUP_ENCRYPTION_KEY")
    if not key:
        raise BackupFailed("BACKUP_ENCRYPTION_KEY is not set: backups are never written unencrypted.")
    try:
        Fernet(key)
    except ValueError:
        raise BackupFailed("BACKUP_ENCRYPTION_KEY is not a valid Fernet key.") from None
    return key


def _guard(step):
    """Run a step; turn the ways it can fail into BackupFailed with a message a person can act on."""
    try:
        return step()
    except (DumpFailed, BackupCorrupt) as err:
        raise BackupFailed(str(err)) from None
    except FileNotFoundError as err:
        raise BackupFailed(f"not found: {err.filename}") from None
    except Exception as err:  # boto3 / botocore raise many kinds; the admin needs the text, not a trace
        if type(err).__module__.startswith(("botocore", "boto3")):
            raise BackupFailed(f"the bucket refused: {err}") from None
        raise

"""Where sealed backups are kept: a directory, or an S3-compatible bucket (boto3); and which to keep.

File names carry their UTC time (botfleet-20261130T021500Z.postgres.bfb), so listing a store is
enough to apply the retention rule without any state of ours.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3

NAME_RE = re.compile(r"^botfleet-(\d{8}T\d{6}Z)\.(postgres|sqlite)\.bfb$")


def backup_name(at: datetime, backend: str) -> str:
    return f"botfleet-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.{backend}.bfb"


def taken_at(name: str) -> datetime | None:
    match = NAME_RE.match(name)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None


def open_store(target: str, endpoint_url: str | None = None):
    if target.startswith("s3://"):
        bucket, _, prefix = target[5:].partition("/")
        return S3Store(bucket, prefix.strip("/"), endpoint_url)
    return DirectoryStore(Path(target))


@dataclass
class DirectoryStore:
    root: Path

    def put(self, local: Path, name: str) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / (name + ".partial")
        shutil.copyfile(local, partial)
        partial.replace(self.root / name)
        return str(self.root / name)

    def get(self, name: str, local: Path) -> None:
        shutil.copyfile(self.root / name, local)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("botfleet-*.bfb")) if self.root.exists() else []

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)


@dataclass
class S3Store:
    bucket: str
    prefix: str
    endpoint_url: str | None = None

    def __post_init__(self):
        self.client = boto3.client("s3", endpoint_url=self.endpoint_url)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, local: Path, name: str) -> str:
        self.client.upload_file(str(local), self.bucket, self._key(name))
        return f"s3://{self.bucket}/{self._key(name)}"

    def get(self, name: str, local: Path) -> None:
        self.client.download_file(self.bucket, self._key(name), str(local))

    def names(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key("botfleet-"))
        return sorted(obj["Key"].rsplit("/", 1)[-1] for page in pages for obj in page.get("Contents", []))

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))


def to_delete(names: list[str], keep_daily: int, keep_weekly: int) -> list[str]:
    """Keep the newest copy of each of the last `keep_daily` days and `keep_weekly` ISO weeks."""
    dated = sorted(((taken_at(n), n) for n in names if taken_at(n)), reverse=True)
    keep: set[str] = set()
    for period, count in ((lambda t: t.date(), keep_daily), (lambda t: t.isocalendar()[:2], keep_weekly)):
        seen = []
        for at, name in dated:
            if period(at) not in seen and len(seen) < count:
                seen.append(period(at))
                keep.add(name)
    return [name for _, name in dated if name not in keep]

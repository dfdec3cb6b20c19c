"""Moving members in from other bots: `flask import members` and the dashboard's JSON upload.

Every source runs through the same steps: read rows, clean them (rows.py), write them in batches
(writer.py), then link referrals. The caller owns the transaction: `checkpoint` is called after each
batch (the CLI commits there on a real run); a dry run rolls everything back at the end.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from app.models import Bot, Tenant
from app.services.imports import bedolaga, sources
from app.services.imports.ahead import batches_ahead
from app.services.imports.rows import MemberRow, RowRefused
from app.services.imports.writer import ImportReport, MemberWriter

SOURCES = ("users-table", "users-json", "bedolaga")
BATCH_SIZE = 10_000

Checkpoint = Callable[[int], None]


def import_users_table(tenant: Tenant, url: str, *, table: str = "users", bot: Bot | None = None,
                       dry_run: bool = False, checkpoint: Checkpoint | None = None) -> ImportReport:
    engine = sources.source_engine(url)
    try:
        rows = sources.from_users_table(sources.table_rows(engine, table))
        return _run(tenant, "users-table", rows, bot, dry_run, checkpoint)
    finally:
        engine.dispose()


def import_users_json(tenant: Tenant, document: Any, *, bot: Bot | None = None, dry_run: bool = False,
                      checkpoint: Checkpoint | None = None) -> ImportReport:
    return _run(tenant, "users-json", sources.from_users_json(document), bot, dry_run, checkpoint)


def import_bedolaga(tenant: Tenant, url: str, *, bot: Bot | None = None, dry_run: bool = False,
                    checkpoint: Checkpoint | None = None) -> ImportReport:
    """Users set-based; then, per member, money history; then subscriptions, promo codes, referrals."""
    engine = sources.source_engine(url)
    try:
        balances: dict[int, int] = {}
        rows = _without_balance(sources.from_bedolaga_users(sources.table_rows(engine, "users")), balances)
        members: dict[int, int] = {}
        report = _run(tenant, "bedolaga", rows, bot, dry_run, checkpoint, members=members, link=False)
        users = bedolaga.user_ids(engine)
        bedolaga.import_money(engine, tenant, users, members, balances, report)
        bedolaga.import_subscriptions(engine, tenant, users, members, report)
        bedolaga.import_promocodes(engine, tenant, report)
        writer = MemberWriter(tenant, "bedolaga", report, bot)
        writer.referrals = bedolaga.referral_pairs(engine, users)
        writer.link_referrals()
        return report
    finally:
        engine.dispose()


def count_of(source: str, location: str, table: str = "users") -> int | None:
    """How many rows the source holds (for a progress bar), when that is cheap to know."""
    if source == "users-json":
        return None
    engine = sources.source_engine(location)
    try:
        return sources.count_rows(engine, "users" if source == "bedolaga" else table)
    finally:
        engine.dispose()


def _without_balance(rows: Iterable[MemberRow | RowRefused], balances: dict[int, int]) -> Iterator:
    """Bedolaga balances are reached through the money history, not an opening entry of the writer."""
    for row in rows:
        if isinstance(row, MemberRow):
            balances[row.telegram_id], row.balance = row.balance, 0
        yield row


def _run(tenant, source, rows, bot, dry_run, checkpoint, *, members: dict | None = None,
         link: bool = True) -> ImportReport:
    report = ImportReport(source=source, dry_run=dry_run)
    writer = MemberWriter(tenant, source, report, bot)
    for batch in batches_ahead(rows, BATCH_SIZE):
        written = writer.write(batch)
        if members is not None:
            members.update(written)
        if checkpoint is not None:
            checkpoint(len(batch))
    if link:
        writer.link_referrals()
    return report

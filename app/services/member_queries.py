"""Member search, the member page and the leaderboard page; each query is a SELECT the EXPLAIN test reads.

The leaderboard's top-N query is growth's (app/services/leaderboard.py); this module adds the badges.

Search is by exact telegram id, or by a prefix of the username or first or last name, case-insensitive,
read from the (tenant_id, lower(column) text_pattern_ops) indexes. Pages are keyset-paginated by id.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerAccount, LedgerEntry, Member, MemberBadge, Receipt, Subscription, Tenant
from app.services import leaderboard as leaderboard_service
from app.services.parsing import clean_text

PAGE_SIZE = 50
HISTORY_SIZE = 50
LEADERBOARD_SIZE = leaderboard_service.MAX_LIMIT
SEARCHED_NAMES = ("username", "first_name", "last_name")
#: Longer search text is cut (no name is longer).
MAX_SEARCH = 100


def search_query(tenant: Tenant, text: str = "", *, before_id: int | None = None,
                 limit: int = PAGE_SIZE) -> sa.Select:
    """Members matching `text` (all when empty), newest first, `limit` rows older than `before_id`."""
    query = sa.select(Member).where(Member.tenant_id == tenant.id)
    condition = _match(text)
    if condition is not None:
        query = query.where(condition)
    if before_id:
        query = query.where(Member.id < before_id)
    return query.order_by(Member.id.desc()).limit(limit)


def _match(text: str):
    text = clean_text(text)[:MAX_SEARCH].lstrip("@").lower()
    if not text:
        return None
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [sa.func.lower(getattr(Member, name)).like(prefix, escape="\\") for name in SEARCHED_NAMES]
    if text.isascii() and text.isdigit() and len(text) <= 18:
        conditions.append(Member.telegram_id == int(text))
    return sa.or_(*conditions)


def search(tenant: Tenant, text: str = "", before_id: int | None = None) -> tuple[list[Member], int | None]:
    """A page of members and the id to continue from (None on the last page)."""
    rows = list(db.session.scalars(search_query(tenant, text, before_id=before_id, limit=PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None


def ledger_query(member: Member, limit: int = HISTORY_SIZE) -> sa.Select:
    return sa.select(LedgerEntry).where(
        LedgerEntry.tenant_id == member.tenant_id, LedgerEntry.member_id == member.id,
        LedgerEntry.account == LedgerAccount.MEMBER_BALANCE.value,
    ).order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit)


def receipts_query(member: Member, limit: int = HISTORY_SIZE) -> sa.Select:
    return sa.select(Receipt).where(Receipt.tenant_id == member.tenant_id, Receipt.member_id == member.id) \
        .order_by(Receipt.id.desc()).limit(limit)


def subscriptions_query(member: Member) -> sa.Select:
    return sa.select(Subscription).where(Subscription.tenant_id == member.tenant_id,
                                         Subscription.member_id == member.id).order_by(Subscription.ends_at.desc())


def badges_query(member_ids: list[int]) -> sa.Select:
    return sa.select(MemberBadge).where(MemberBadge.member_id.in_(member_ids)).order_by(MemberBadge.awarded_at)


def member_page_queries(member: Member) -> dict[str, sa.Select]:
    """Every query the member page runs, by name."""
    return {"ledger": ledger_query(member), "receipts": receipts_query(member),
            "subscriptions": subscriptions_query(member), "badges": badges_query([member.id])}


def member_page(member: Member) -> dict:
    return {name: list(db.session.scalars(query)) for name, query in member_page_queries(member).items()}


def leaderboard(tenant: Tenant, *, today: bool = False) -> list[tuple[int, Member, list[str]]]:
    """(rank, member, badge codes) of the top members, by growth's indexed top-N query."""
    query = leaderboard_service.top_query(tenant.id, "today" if today else "all", LEADERBOARD_SIZE)
    members = list(db.session.scalars(query))
    badges: dict[int, list[str]] = {}
    for badge in db.session.scalars(badges_query([m.id for m in members])) if members else []:
        badges.setdefault(badge.member_id, []).append(badge.badge_code)
    return [(rank, m, badges.get(m.id, [])) for rank, m in enumerate(members, start=1)]


def export_rows(tenant: Tenant, batch: int = 1000):
    """Every member of the tenant as CSV rows, read in id-keyset batches (constant memory)."""
    yield ["telegram_id", "username", "first_name", "last_name", "balance", "total_xp", "level", "banned",
           "created_at"]
    after = 0
    while True:
        rows = db.session.execute(sa.select(
            Member.id, Member.telegram_id, Member.username, Member.first_name, Member.last_name, Member.balance,
            Member.total_xp, Member.level, Member.is_banned, Member.created_at,
        ).where(Member.tenant_id == tenant.id, Member.id > after).order_by(Member.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield [*row[1:9], row[9].isoformat()]
        after = rows[-1].id

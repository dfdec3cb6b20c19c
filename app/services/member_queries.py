"""Member search, the member page and the leaderboard page; each query is a SELECT the EXPLAIN test reads.

The leaderboard's top-N query is growth's (app/services/leaderboard.py); this module adds the badges.

Search is by exact telegram id, or by a prefix of the username or first or last name, case-insensitive,
read from the (tenant_id, lower(column) text_pattern_ops) indexes. Pages are keyset-paginated by id.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import BotSession, LedgerAccount, LedgerEntry, Member, MemberBadge, Receipt, Subscription, Tenant
from app.services import clock
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
    """Members matching `text` (all when empty), newest first, `limit` rows older than `before_id`.

    A search is a UNION of one branch per searched column, each `ORDER BY id DESC LIMIT n` on its own, so
    the planner picks per column between its prefix index (a rare prefix) and the backward id scan (a
    common one), with that column's statistics. An OR of the columns in one query has no such choice and,
    on a rare prefix, walked the whole tenant backwards by id.
    """
    conditions = _match(text)
    if not conditions:
        return _newest(tenant, before_id, limit)
    branches = [sa.select(_newest(tenant, before_id, limit, condition).with_only_columns(Member.id).subquery().c.id)
                for condition in conditions]
    found = sa.union(*branches).subquery()
    return (sa.select(Member).join(found, found.c.id == Member.id).where(Member.tenant_id == tenant.id)
            .order_by(Member.id.desc()).limit(limit))


def _newest(tenant: Tenant, before_id: int | None, limit: int, condition=None) -> sa.Select:
    query = sa.select(Member).where(Member.tenant_id == tenant.id)
    if condition is not None:
        query = query.where(condition)
    if before_id:
        query = query.where(Member.id < before_id)
    return query.order_by(Member.id.desc()).limit(limit)


def _match(text: str) -> list:
    """One condition per searched column: a case-insensitive prefix, or the exact telegram id."""
    text = clean_text(text)[:MAX_SEARCH].lstrip("@").lower()
    if not text:
        return []
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [sa.func.lower(getattr(Member, name)).like(prefix, escape="\\") for name in SEARCHED_NAMES]
    if text.isascii() and text.isdigit() and len(text) <= 18:
        conditions.append(Member.telegram_id == int(text))
    return conditions


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
            "subscriptions": subscriptions_query(member), "badges": badges_query([member.id]),
            "blocked_sessions": blocked_sessions_query(member)}


def blocked_sessions_query(member: Member) -> sa.Select:
    """The member's sessions with bots they blocked (broadcasts skip them there), with their bots."""
    return (sa.select(BotSession).options(sa.orm.joinedload(BotSession.bot))
            .where(BotSession.tenant_id == member.tenant_id, BotSession.member_id == member.id,
                   BotSession.blocked_at.is_not(None)).order_by(BotSession.bot_id))


def member_page(member: Member) -> dict:
    return {name: list(db.session.scalars(query)) for name, query in member_page_queries(member).items()}


def leaderboard(tenant: Tenant, *, today: bool = False) -> list[tuple[int, Member, list[str]]]:
    """(rank, member, badge codes) of the top members, by growth's indexed top-N query."""
    query = leaderboard_service.top_query(tenant.id, "today" if today else "all", LEADERBOARD_SIZE,
                                          day=clock.tenant_today(tenant))
    members = list(db.session.scalars(query))
    badges: dict[int, list[str]] = {}
    for badge in db.session.scalars(badges_query([m.id for m in members])) if members else []:
        badges.setdefault(badge.member_id, []).append(badge.badge_code)
    return [(rank, m, badges.get(m.id, [])) for rank, m in enumerate(members, start=1)]

"""Badges: a built-in catalogue plus the tenant's own, awarded once per member."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import BadgeDefinition, LedgerEntry, Member, MemberBadge, Tenant
from app.models.types import utcnow
from app.services import leaderboard, rowwrites
from app.services.errors import NotFound, ValidationFailed
from app.services.parsing import clean_text, has_visible

CODE_RE = re.compile(r"^[a-z0-9_]{2,40}$")
#: The ledger kind of a plan purchase (a member debit); purchases are counted from the ledger.
PURCHASE_KIND = "purchase"


@dataclass(frozen=True)
class BadgeSpec:
    code: str
    title: str
    description: str
    icon: str


@dataclass(frozen=True)
class EarnedBadge:
    """A member's badge with its title, for the bot profile and the dashboard."""

    code: str
    title: str
    description: str
    icon: str
    awarded_at: datetime
    earned_in_bot_id: int | None


CATALOGUE: dict[str, BadgeSpec] = {spec.code: spec for spec in (
    BadgeSpec("first_purchase", "First purchase", "Bought a plan for the first time.", "🛒"),
    BadgeSpec("five_purchases", "Loyal customer", "Bought plans five times.", "💎"),
    BadgeSpec("three_referrals", "Ambassador", "Three invited friends made a purchase.", "🤝"),
    BadgeSpec("top10_week", "Top 10", "Was in the top 10 of the leaderboard at a weekly check.", "🏆"),
    BadgeSpec("streak_7", "Regular", "Visited seven days in a row.", "📅"),
    BadgeSpec("streak_30", "Devoted", "Visited thirty days in a row.", "🔥"),
    BadgeSpec("level_5", "Rising star", "Reached level 5.", "⭐"),
    BadgeSpec("level_10", "Veteran", "Reached level 10.", "🌟"),
)}

#: Thresholds of the automatic badges: (badge code, value needed).
PURCHASE_BADGES = (("first_purchase", 1), ("five_purchases", 5))
REFERRAL_BADGES = (("three_referrals", 3),)
STREAK_BADGES = (("streak_7", 7), ("streak_30", 30))
LEVEL_BADGES = (("level_5", 5), ("level_10", 10))


def definition(tenant: Tenant, code: str) -> BadgeSpec | None:
    """A built-in badge, or an active badge the tenant defined."""
    if code in CATALOGUE:
        return CATALOGUE[code]
    row = _custom(tenant.id, code)
    return _spec(row) if row is not None and row.is_active else None


def award(member: Member, code: str, *, bot=None, **metadata) -> MemberBadge | None:
    """Give a member a badge; None when they already hold it (the unique constraint decides)."""
    if definition(member.tenant, code) is None:
        raise NotFound(f"There is no badge {code!r} in this tenant.")
    awarded = _insert_new(member, (code,), bot, metadata)
    return awarded[0] if awarded else None


#: Built once: every profile view asks (building the SELECT would cost more than running it).
_BADGES_OF = sa.select(MemberBadge).where(
    MemberBadge.tenant_id == sa.bindparam("tenant_id"), MemberBadge.member_id == sa.bindparam("member_id")
).order_by(MemberBadge.awarded_at, MemberBadge.id)


def badges_of(member: Member) -> list[EarnedBadge]:
    """The member's badges, oldest first; badges of disabled definitions keep their title."""
    rows = db.session.scalars(_BADGES_OF, {"tenant_id": member.tenant_id, "member_id": member.id}).all()
    # The tenant's own definitions are read only when the member holds one of them (most hold built-ins only).
    custom = ({d.code: _spec(d) for d in custom_definitions(member.tenant)}
              if any(row.badge_code not in CATALOGUE for row in rows) else {})
    unknown = BadgeSpec("", "", "", "🏅")
    return [_earned(row, CATALOGUE.get(row.badge_code) or custom.get(row.badge_code, unknown)) for row in rows]


def create_definition(tenant: Tenant, code: str, title: str, *, description: str | None = None,
                      icon: str | None = None) -> BadgeDefinition:
    """A badge of the tenant's own, which staff award by hand."""
    code, title = (code or "").strip().lower(), clean_text(title)
    if not CODE_RE.match(code):
        raise ValidationFailed("A badge code has 2 to 40 lower-case letters, digits or underscores.")
    if code in CATALOGUE or _custom(tenant.id, code) is not None:
        raise ValidationFailed(f"There is already a badge with the code {code!r}.")
    if not has_visible(title) or len(title) > 80:
        raise ValidationFailed("A badge needs a title of at most 80 characters.")
    row = BadgeDefinition(tenant_id=tenant.id, code=code, title=title, description=description or None,
                          icon=(icon or "").strip()[:16] or None)
    db.session.add(row)
    db.session.flush()
    return row


def disable_definition(row: BadgeDefinition) -> BadgeDefinition:
    """Stop awarding a tenant badge; members who hold it keep it."""
    row.is_active = False
    db.session.flush()
    return row


def custom_definitions(tenant: Tenant) -> list[BadgeDefinition]:
    return list(db.session.scalars(
        sa.select(BadgeDefinition).where(BadgeDefinition.tenant_id == tenant.id).order_by(BadgeDefinition.id)))


def purchase_count(member: Member) -> int:
    """How many plan purchases the member has made (debits of kind `purchase` in the ledger)."""
    return db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(
        LedgerEntry.tenant_id == member.tenant_id, LedgerEntry.member_id == member.id,
        LedgerEntry.kind == PURCHASE_KIND, LedgerEntry.amount < 0))


def referral_count(member: Member) -> int:
    """How many members this one invited have made their first purchase."""
    return db.session.scalar(sa.select(sa.func.count(Member.id)).where(
        Member.tenant_id == member.tenant_id, Member.referred_by_id == member.id,
        Member.referral_rewarded_at.is_not(None)))


def check_after_purchase(member: Member, bot=None) -> list[MemberBadge]:
    return _award_reached(member, PURCHASE_BADGES, purchase_count(member), bot)


def check_after_referral(referrer: Member, bot=None) -> list[MemberBadge]:
    return _award_reached(referrer, REFERRAL_BADGES, referral_count(referrer), bot)


def check_streak(member: Member, bot=None) -> list[MemberBadge]:
    return _award_reached(member, STREAK_BADGES, member.streak_days, bot)


def check_level(member: Member, bot=None) -> list[MemberBadge]:
    return _award_reached(member, LEVEL_BADGES, member.level, bot)


def award_weekly_top10(tenant: Tenant) -> list[MemberBadge]:
    """Give `top10_week` to the all-time top 10; the scheduler runs this once a week."""
    standings = leaderboard.top(tenant, period="all", limit=10)
    members = [db.session.get(Member, s.member_id) for s in standings]
    awarded = (award(m, "top10_week", week_rank=s.rank) for m, s in zip(members, standings))
    return [badge for badge in awarded if badge is not None]


def _award_reached(member: Member, ladder, value: int, bot) -> list[MemberBadge]:
    codes = tuple(code for code, needed in ladder if value >= needed)
    return _insert_new(member, codes, bot, {}) if codes else []


def _insert_new(member: Member, codes: tuple[str, ...], bot, metadata: dict) -> list[MemberBadge]:
    """Give the member every badge of `codes` not held yet: one upsert (ON CONFLICT DO NOTHING) returning the new
    rows, which become session objects (rowwrites.attach_row) without the ORM's insert machinery (a level up in
    an approval: that machinery cost more Python than the rest of the approval)."""
    params = {"b_tenant_id": member.tenant_id, "b_member_id": member.id,
              "b_bot_id": bot.id if bot is not None else None, "b_metadata": metadata, "b_awarded_at": utcnow()}
    params.update({f"b_code_{i}": code for i, code in enumerate(codes)})
    rows = db.session.connection().execute(_upsert_of(len(codes)), params).all()
    return [rowwrites.attach_row(MemberBadge, row) for row in sorted(rows, key=lambda row: row.id)]


_upserts: dict = {}


def _upsert_of(count: int) -> sa.TextClause:
    """The upsert of `count` badges of one member, as text that SQLite and Postgres both read (bound:
    b_tenant_id, b_member_id, b_bot_id, b_metadata, b_awarded_at, b_code_0...): SQLAlchemy never caches the
    compiled SQL of its dialect INSERTs with ON CONFLICT (see sessions._insert_session), and compiling it cost
    more than running it. Built once per count; it returns every column, in table order."""
    cached = _upserts.get(count)
    if cached is None:
        table, columns = MemberBadge.__table__, rowwrites.table_columns(MemberBadge)
        rows = ", ".join(f"(:b_tenant_id, :b_member_id, :b_code_{i}, :b_bot_id, :b_metadata, :b_awarded_at)"
                         for i in range(count))
        cached = _upserts[count] = sa.text(
            "INSERT INTO member_badges (tenant_id, member_id, badge_code, earned_in_bot_id, metadata, awarded_at) "
            f"VALUES {rows} ON CONFLICT (member_id, badge_code) DO NOTHING RETURNING "
            + ", ".join(c.name for c in columns)
        ).bindparams(sa.bindparam("b_metadata", type_=table.c.metadata.type),
                     sa.bindparam("b_awarded_at", type_=table.c.awarded_at.type)).columns(*columns)
    return cached


def _custom(tenant_id: int, code: str) -> BadgeDefinition | None:
    return db.session.scalar(
        sa.select(BadgeDefinition).where(BadgeDefinition.tenant_id == tenant_id, BadgeDefinition.code == code))


def _spec(row: BadgeDefinition) -> BadgeSpec:
    return BadgeSpec(row.code, row.title, row.description or "", row.icon or "🏅")


def _earned(row: MemberBadge, spec: BadgeSpec) -> EarnedBadge:
    return EarnedBadge(row.badge_code, spec.title or row.badge_code, spec.description, spec.icon,
                       row.awarded_at, row.earned_in_bot_id)

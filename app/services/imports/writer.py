"""Writing cleaned member rows in set-based batches, so that a second run changes nothing.

Per batch: one SELECT finds who exists, one INSERT adds the new members (ON CONFLICT DO NOTHING), one
UPDATE merges the existing ones (fills empty fields, keeps the higher VIP level and XP), and opening
balances go through the ledger: one INSERT of entries keyed `import:<source>:<telegram id>:opening`
(ON CONFLICT DO NOTHING RETURNING), then the balances of exactly the entries written are raised, under the
member rows' locks taken in id order. So a re-run finds every key taken and credits nothing, and
balance == sum(ledger) holds after every batch.

On Postgres each of those statements carries the whole batch as one array literal per column
(`INSERT ... SELECT ... FROM unnest(...)`, `UPDATE ... FROM unnest(...)`, see bulk.py): one round trip and
one small statement to plan, whatever the batch size (see docs/imports.md). SQLite takes the portable
multi-row forms.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models import Bot, BotSession, LedgerEntry, Member, MemberBadge, Tenant
from app.models.types import utcnow
from app.services import badges as badge_service
from app.services import levels
from app.services.imports.bulk import insert_columns, insert_for, insert_rows, on_postgres, pg_array, referral_codes
from app.services.imports.rows import MemberRow, RowRefused

PROBLEMS_KEPT = 20
OPENING_KIND = "opening_balance"


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    read: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    credited: int = 0
    credited_toman: int = 0
    skipped_reasons: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    extra: Counter = field(default_factory=Counter)

    def skip(self, reason: str, where: str) -> None:
        self.skipped += 1
        self.skipped_reasons[reason.split(" (")[0]] += 1
        self.problem(f"{where}: {reason}")

    def problem(self, text: str) -> None:
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(text)

    def as_dict(self) -> dict:
        return {"source": self.source, "dry_run": self.dry_run, "read": self.read, "imported": self.imported,
                "updated": self.updated, "skipped": self.skipped, "credited": self.credited,
                "credited_toman": self.credited_toman, "skipped_reasons": dict(self.skipped_reasons),
                "problems": self.problems, **dict(self.extra)}


class MemberWriter:
    """Writes batches of MemberRow for one tenant; remembers what a later step (referrals) needs."""

    def __init__(self, tenant: Tenant, source: str, report: ImportReport, bot: Bot | None = None):
        self.tenant, self.source, self.report, self.bot = tenant, source, report, bot
        self.seen: set[int] = set()
        self.referrals: list[tuple[int, int]] = []
        self._bots = {b.username.lower(): b.id for b in db.session.scalars(
            sa.select(Bot).where(Bot.tenant_id == tenant.id))}
        self._bot_ids = set(self._bots.values())
        self._badges = _badge_codes(tenant)
        self._levels = levels.thresholds(tenant)
        self._now = utcnow()
        self.tenant_id = tenant.id
        #: The columns every new member starts with.
        self._new_shared = {"tenant_id": tenant.id, "is_banned": False, "xp_today": 0, "streak_days": 0}

    def write(self, batch: Iterable[MemberRow | RowRefused]) -> dict[int, int]:
        """Store one batch; returns telegram id -> member id for the rows kept."""
        rows = self._kept(batch)
        if not rows:
            return {}
        ids = self._existing([r.telegram_id for r in rows])
        self._merge([r for r in rows if r.telegram_id in ids], ids)
        inserted, found = self._insert([r for r in rows if r.telegram_id not in ids])
        ids.update(found)
        self._open_balances([r for r in rows if r.telegram_id in ids], ids)
        self._open_new_balances([r for r in rows if r.telegram_id in inserted], inserted)
        ids.update(inserted)
        self._sessions(rows, ids)
        self._award(rows, ids)
        self.referrals += [(r.telegram_id, r.referrer_telegram_id) for r in rows if r.referrer_telegram_id]
        return ids

    def _kept(self, batch) -> list[MemberRow]:
        kept = []
        for row in batch:
            self.report.read += 1
            where = f"row {self.report.read}"
            if isinstance(row, RowRefused):
                self.report.skip(str(row), where)
            elif row.telegram_id in self.seen:
                self.report.skip(f"duplicate telegram id (first row kept) ({row.telegram_id})", where)
            else:
                self.seen.add(row.telegram_id)
                kept.append(row)
                for note in row.notes:
                    self.report.problem(f"{where} ({row.telegram_id}): {note}")
        return kept

    def _existing(self, telegram_ids: list[int]) -> dict[int, int]:
        if on_postgres():  # one array literal, not an IN list of 10,000 bound parameters
            ids = sa.cast(sa.literal(pg_array(telegram_ids), sa.Text), postgresql.ARRAY(sa.BigInteger))
            matches = Member.telegram_id == sa.any_(ids)
        else:
            matches = Member.telegram_id.in_(telegram_ids)
        return dict(db.session.execute(sa.select(Member.telegram_id, Member.id).where(
            Member.tenant_id == self.tenant.id, matches)).all())

    def _insert(self, rows: list[MemberRow]) -> tuple[dict[int, int], dict[int, int]]:
        """New members, written with their opening balance (see _open_new_balances); a referral code that
        happens to be taken is drawn again. Returns (inserted here, found inserted meanwhile by another)."""
        created: dict[int, int] = {}
        found: dict[int, int] = {}
        for _ in range(5):
            if not rows:
                break
            got = dict(insert_columns(Member.__table__, self._new_columns(rows), shared=self._new_shared,
                                      returning=("telegram_id", "id")))
            created.update(got)
            rows = [r for r in rows if r.telegram_id not in got]
            if rows:
                found.update(self._existing([r.telegram_id for r in rows]))
                rows = [r for r in rows if r.telegram_id not in found]
        self.report.imported += len(created) + len(found)
        return created, found

    def _new_columns(self, rows: list[MemberRow]) -> dict[str, list]:
        levels_of = {xp: self._level(xp) for xp in {r.total_xp for r in rows}}
        return {"telegram_id": [r.telegram_id for r in rows], "username": [r.username for r in rows],
                "first_name": [r.first_name for r in rows], "last_name": [r.last_name for r in rows],
                "language_code": [r.language_code for r in rows], "balance": [r.balance for r in rows],
                "vip_level": [r.vip_level for r in rows], "is_newcomer": [r.is_newcomer for r in rows],
                "total_xp": [r.total_xp for r in rows], "level": [levels_of[r.total_xp] for r in rows],
                "referral_code": referral_codes(len(rows)),
                "created_at": [r.created_at or self._now for r in rows]}

    def _level(self, total_xp: int) -> int:
        return levels.level_in(self._levels, total_xp)

    def _merge(self, rows: list[MemberRow], ids: dict[int, int]) -> None:
        if not rows:
            return
        params = [{"mid": ids[r.telegram_id], "u": r.username, "f": r.first_name, "l": r.last_name,
                   "lang": r.language_code, "vip": r.vip_level, "xp": r.total_xp,
                   "lvl": self._level(r.total_xp)} for r in rows]
        self.report.updated += len(rows)
        if on_postgres():
            db.session.execute(sa.text(_PG_MERGE), {k: pg_array(p[k] for p in params) for k in params[0]})
            return
        m = Member.__table__.c
        statement = sa.update(Member.__table__).where(m.id == sa.bindparam("mid")).values(
            username=sa.func.coalesce(m.username, sa.bindparam("u")),
            first_name=sa.func.coalesce(m.first_name, sa.bindparam("f")),
            last_name=sa.func.coalesce(m.last_name, sa.bindparam("l")),
            language_code=sa.func.coalesce(m.language_code, sa.bindparam("lang")),
            vip_level=sa.case((m.vip_level < sa.bindparam("vip"), sa.bindparam("vip")), else_=m.vip_level),
            level=sa.case((m.total_xp < sa.bindparam("xp"), sa.bindparam("lvl")), else_=m.level),
            total_xp=sa.case((m.total_xp < sa.bindparam("xp"), sa.bindparam("xp")), else_=m.total_xp),
        )
        db.session.execute(statement, params)

    def _open_balances(self, rows: list[MemberRow], ids: dict[int, int]) -> None:
        amounts = {ids[r.telegram_id]: (r.balance, self.key(r.telegram_id, "opening")) for r in rows if r.balance}
        credit_members(self.tenant, amounts, kind=OPENING_KIND, report=self.report, note=f"import {self.source}")

    def _open_new_balances(self, rows: list[MemberRow], ids: dict[int, int]) -> None:
        """Opening entries of members inserted by this batch, which already hold that balance.

        Nobody else can see these rows yet, so there is nothing to lock and no balance to raise: the entry's
        balance_after is the amount. An entry whose key is taken (never expected for a new member) is not
        written, and that member's balance is brought back down, so balance == sum(ledger) still holds.
        """
        amounts = {ids[r.telegram_id]: r.balance for r in rows if r.balance}
        if not amounts:
            return
        keys = [self.key(r.telegram_id, "opening") for r in rows if r.balance]
        shared = {"tenant_id": self.tenant_id, "account": "member_balance", "kind": OPENING_KIND,
                  "note": f"import {self.source}", "actor": "import", "created_at": self._now}
        columns = {"member_id": list(amounts), "amount": list(amounts.values()),
                   "balance_after": list(amounts.values()), "idempotency_key": keys}
        written = dict(insert_columns(LedgerEntry.__table__, columns, shared=shared,
                                      returning=("member_id", "amount")))
        if len(written) < len(amounts):
            _raise_balances({mid: -amount for mid, amount in amounts.items() if mid not in written})
        self.report.credited += len(written)
        self.report.credited_toman += sum(written.values())

    def key(self, telegram_id: int, what: str) -> str:
        return f"import:{self.source}:{telegram_id}:{what}"

    def _sessions(self, rows: list[MemberRow], ids: dict[int, int]) -> None:
        values = []
        for row in rows:
            by_bot: dict[int, dict] = {}
            for key, data in row.sessions.items():
                bot_id = self._bot_for(key)
                if bot_id is None:
                    self.report.problem(f"{row.telegram_id}: no bot {key!r} in this tenant; its session is skipped")
                else:
                    by_bot.setdefault(bot_id, data)
            if self.bot is not None:
                by_bot.setdefault(self.bot.id, {})
            values += [_session_values(self.tenant.id, ids[row.telegram_id], bot_id, data)
                       for bot_id, data in by_bot.items()]
        if values:
            db.session.execute(insert_for(BotSession.__table__).on_conflict_do_nothing(), values)

    def _bot_for(self, key: str) -> int | None:
        key = key.strip().lstrip("@").lower()
        if key.isdigit() and int(key) in self._bot_ids:
            return int(key)
        return self._bots.get(key) or (self.bot.id if self.bot is not None else None)

    def _award(self, rows: list[MemberRow], ids: dict[int, int]) -> None:
        values = []
        for row in rows:
            for name in row.badges:
                code = self._badges.get(str(name).strip().lower())
                if code is None:
                    self.report.problem(f"{row.telegram_id}: unknown badge {name!r}")
                    continue
                values.append({"tenant_id": self.tenant.id, "member_id": ids[row.telegram_id], "badge_code": code,
                               "metadata": {"imported_from": self.source}, "awarded_at": utcnow()})
        if values:
            db.session.execute(insert_for(MemberBadge.__table__).on_conflict_do_nothing(), values)

    def link_referrals(self) -> int:
        """Set referred_by where it is empty, for referrers that are members of the tenant (never oneself)."""
        pairs = [(m, r) for m, r in self.referrals if m != r]
        linked = 0
        for start in range(0, len(pairs), 5_000):
            chunk = pairs[start:start + 5_000]
            ids = self._existing(list({t for pair in chunk for t in pair}))
            params = [{"mid": ids[m], "rid": ids[r]} for m, r in chunk if m in ids and r in ids]
            if params:
                m = Member.__table__.c
                result = db.session.execute(sa.update(Member.__table__).where(
                    m.id == sa.bindparam("mid"), m.referred_by_id.is_(None)).values(
                    referred_by_id=sa.bindparam("rid")), params)
                linked += max(result.rowcount or 0, 0)
        self.report.extra["referrals_linked"] += linked
        return linked


def credit_members(tenant: Tenant, amounts: dict[int, tuple[int, str]], *, kind: str, report: ImportReport,
                   note: str, created_at=None) -> None:
    """Ledger credits (member id -> (Toman, key)) in one statement; each key is applied once ever."""
    if not amounts:
        return
    balances = dict(db.session.execute(
        sa.select(Member.id, Member.balance).where(Member.tenant_id == tenant.id, Member.id.in_(list(amounts)))
        .order_by(Member.id).with_for_update(key_share=True)).all())
    now = created_at or utcnow()
    entries = [{"tenant_id": tenant.id, "member_id": mid, "account": "member_balance", "amount": amount,
                "balance_after": balances[mid] + amount, "kind": kind, "idempotency_key": key, "note": note,
                "actor": "import", "created_at": now} for mid, (amount, key) in amounts.items() if mid in balances]
    written = insert_rows(LedgerEntry.__table__, entries, returning=("member_id", "amount"))
    if written:
        _raise_balances(dict(written))
    report.credited += len(written)
    report.credited_toman += sum(amount for _, amount in written)


def _raise_balances(amounts: dict[int, int]) -> None:
    """One UPDATE for the whole batch: Postgres joins two arrays; SQLite takes a CASE on the id (fine for the
    small files SQLite sees; on Postgres a CASE of n branches costs n² and was most of the import's time)."""
    if on_postgres():
        db.session.execute(sa.text(
            "UPDATE members SET balance = members.balance + v.amount "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:amounts AS bigint[])) AS v(id, amount) "
            "WHERE members.id = v.id"), {"ids": pg_array(amounts), "amounts": pg_array(amounts.values())})
        return
    m = Member.__table__.c
    delta = sa.case({mid: sa.literal(amount, sa.BigInteger) for mid, amount in amounts.items()}, value=m.id)
    db.session.execute(sa.update(Member.__table__).where(m.id.in_(list(amounts))).values(balance=m.balance + delta))


#: The merge of existing members on Postgres, the whole batch as arrays (see MemberWriter._merge).
_PG_MERGE = """
UPDATE members SET
  username = COALESCE(members.username, v.u), first_name = COALESCE(members.first_name, v.f),
  last_name = COALESCE(members.last_name, v.l), language_code = COALESCE(members.language_code, v.lang),
  vip_level = GREATEST(members.vip_level, v.vip),
  level = CASE WHEN members.total_xp < v.xp THEN v.lvl ELSE members.level END,
  total_xp = GREATEST(members.total_xp, v.xp)
FROM unnest(CAST(:mid AS integer[]), CAST(:u AS varchar[]), CAST(:f AS varchar[]), CAST(:l AS varchar[]),
            CAST(:lang AS varchar[]), CAST(:vip AS integer[]), CAST(:xp AS bigint[]), CAST(:lvl AS integer[]))
  AS v(mid, u, f, l, lang, vip, xp, lvl)
WHERE members.id = v.mid
"""


def _session_values(tenant_id: int, member_id: int, bot_id: int, data: dict) -> dict:
    now = utcnow()
    return {"tenant_id": tenant_id, "member_id": member_id, "bot_id": bot_id,
            "session_data": data.get("session_data") or {}, "stats_data": data.get("stats_data") or {},
            "daily_requests": 0, "created_at": now, "updated_at": now}


def _badge_codes(tenant: Tenant) -> dict[str, str]:
    """Badge names as a source may write them (code or title, any case) -> our badge code."""
    names = {}
    for spec in badge_service.CATALOGUE.values():
        names[spec.code] = names[spec.title.lower()] = spec.code
    for row in badge_service.custom_definitions(tenant):
        names[row.code.lower()] = names[row.title.lower()] = row.code
    return names

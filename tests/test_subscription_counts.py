"""plan_sale_counts and subscription_status_counts equal direct counts of subscriptions whatever wrote them, and
the overview's top plans and live subscriptions read from them equal the counts they replaced."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

import sqlalchemy as sa

from app.models import (
    SLOT_SECONDS,
    Member,
    Plan,
    PlanSaleCount,
    Subscription,
    SubscriptionSource,
    SubscriptionStatusCount,
)
from app.services import clock, member_admin, overview, sales_charts, subscription_counts, subscriptions

NOW = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


def _row(member, plan, at, source="receipt", status="expired"):
    return Subscription(tenant_id=member.tenant_id, member_id=member.id, plan_id=plan.id, status=status,
                        starts_at=at, ends_at=at + timedelta(days=30), source=source, created_at=at)


def direct_counts(db) -> dict:
    """(tenant, plan, source, slot) -> subscriptions, counted from the subscriptions themselves."""
    counts: dict = {}
    for row in db.session.execute(sa.select(Subscription.tenant_id, Subscription.plan_id, Subscription.source,
                                            Subscription.created_at)):
        key = (row.tenant_id, row.plan_id, row.source, subscription_counts.slot_of(row.created_at))
        counts[key] = counts.get(key, 0) + 1
    return counts


def stored_counts(db) -> dict:
    c = PlanSaleCount
    rows = db.session.execute(sa.select(c.tenant_id, c.plan_id, c.source, c.slot, sa.func.sum(c.sold))
                              .group_by(c.tenant_id, c.plan_id, c.source, c.slot)).all()
    return {tuple(r[:4]): r[4] for r in rows if r[4]}


def direct_statuses(db) -> dict:
    rows = db.session.execute(sa.select(Subscription.tenant_id, Subscription.status, sa.func.count())
                              .group_by(Subscription.tenant_id, Subscription.status)).all()
    return {(t, status): n for t, status, n in rows}


def stored_statuses(db) -> dict:
    c = SubscriptionStatusCount
    rows = db.session.execute(sa.select(c.tenant_id, c.status, sa.func.sum(c.subscriptions))
                              .group_by(c.tenant_id, c.status)).all()
    return {(t, status): n for t, status, n in rows if n}


def direct_live(db, tenant) -> int:
    """The overview's former count: active and not past its end."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Subscription).where(
        Subscription.tenant_id == tenant.id, Subscription.status == "active", Subscription.ends_at > clock.now()))


def direct_top_plans(db, tenant) -> list[tuple[str, int]]:
    """The chart's former query: a count of the window's paid subscriptions."""
    since = clock.day_bounds(tenant.timezone, clock.tenant_today(tenant) - timedelta(days=29))[0]
    sold = sa.func.count(Subscription.id).label("sold")
    return [tuple(r) for r in db.session.execute(
        sa.select(Plan.name, sold).join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.tenant_id == tenant.id, Subscription.created_at >= since,
               Subscription.source.in_(sales_charts.PAID_SOURCES))
        .group_by(Plan.id, Plan.name).order_by(sold.desc(), Plan.name))][:sales_charts.TOP_PLANS]


def assert_exact(db, tenants):
    db.session.expire_all()
    assert stored_counts(db) == direct_counts(db)
    assert stored_statuses(db) == direct_statuses(db)
    with clock.frozen(NOW):
        for tenant in tenants:
            expected = direct_top_plans(db, tenant)
            assert expected and sales_charts.top_plans(tenant) == expected
            live = direct_live(db, tenant)
            assert live and db.session.scalar(overview.active_subscriptions_query(tenant)) == live


def test_counts_follow_purchases_grants_plan_changes_edits_deletes_and_compaction(db, make):
    tehran, kathmandu = make.tenant(timezone="Asia/Tehran"), make.tenant(timezone="Asia/Kathmandu")  # +03:30, +05:45
    tenants = [tehran, kathmandu]
    plans = {t.id: [make.plan(t, name=f"{t.id}-{n}") for n in ("Gold", "Silver", "Bronze")] for t in tenants}
    members = {t.id: [make.member(t) for _ in range(6)] for t in tenants}
    for tenant in tenants:
        start = clock.day_bounds(tenant.timezone, date(2026, 1, 31))[0]   # the window's first local midnight
        gold, silver, bronze = plans[tenant.id]
        for i, member in enumerate(members[tenant.id]):
            for at in (start - timedelta(microseconds=1), start, start + timedelta(minutes=14, seconds=59),
                       NOW - timedelta(days=i), NOW):
                db.session.add(_row(member, (gold, silver, bronze)[i % 3], at, ("receipt", "balance", "grant")[i % 3],
                                    ("active", "expired", "active", "limited")[i % 4]))
            db.session.add(_row(member, gold, NOW - timedelta(days=31), status="active"))   # past its end, not expired
    db.session.commit()
    assert_exact(db, tenants)

    with clock.frozen(NOW - timedelta(hours=3)):                  # the services' writes: purchase, grant, extension
        for member in members[tehran.id][:3]:
            subscriptions.grant_or_extend(member, plans[tehran.id][1], source=SubscriptionSource.BALANCE.value)
        subscriptions.grant_or_extend(members[tehran.id][0], plans[tehran.id][1], source="balance")   # extended
        member_admin.grant_plan(members[kathmandu.id][0], plans[kathmandu.id][2], 7, make.account())
    db.session.commit()
    assert_exact(db, tenants)

    live = db.session.scalars(sa.select(Subscription).where(Subscription.tenant_id == tehran.id)   # the newest
                              .order_by(Subscription.id.desc())).first()
    with clock.frozen(NOW - timedelta(hours=2)):
        subscriptions.change_plan(live, plans[tehran.id][2])
    db.session.execute(sa.update(Subscription).where(Subscription.tenant_id == kathmandu.id,   # set-based edits
                                                     Subscription.source == "grant").values(source="receipt"))
    for moved in db.session.scalars(sa.select(Subscription).where(Subscription.plan_id == plans[kathmandu.id][0].id)):
        moved.created_at -= timedelta(minutes=20)                # back over a slot's start, maybe the window's
    db.session.execute(sa.delete(Member).where(Member.id == members[tehran.id][4].id))       # cascades
    db.session.execute(sa.update(Subscription).where(Subscription.tenant_id == tehran.id,   # over the traffic cap
                                                     Subscription.status == "active", Subscription.plan_id == plans[tehran.id][2].id)
                       .values(status="limited"))
    subscriptions.cancel(db.session.scalars(sa.select(Subscription).where(Subscription.tenant_id == kathmandu.id,
                                                                          Subscription.status == "active")).first())
    db.session.commit()
    assert_exact(db, tenants)

    subscriptions.expire_due(kathmandu, now=NOW)                 # the expiry job's half: past their end -> expired
    db.session.commit()
    assert_exact(db, tenants)

    for table in (PlanSaleCount, SubscriptionStatusCount):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(table).where(table.fresh))
    for tenant in tenants:
        subscription_counts.compact_tenant(tenant)
    db.session.commit()
    assert_exact(db, tenants)
    for table in (PlanSaleCount, SubscriptionStatusCount):
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(table).where(table.fresh))
    keys = db.session.execute(sa.select(PlanSaleCount.tenant_id, PlanSaleCount.plan_id, PlanSaleCount.source,
                                        PlanSaleCount.slot)).all()
    assert len(keys) == len(set(keys)) == len(direct_counts(db))   # one row per key, none summing to 0

    db.session.add(_row(members[tehran.id][1], plans[tehran.id][0], NOW - timedelta(days=1)))  # after compaction
    db.session.commit()
    assert_exact(db, tenants)


def test_a_deleted_tenant_takes_its_counts_and_leaves_the_others(db, make):
    doomed, kept = make.tenant(), make.tenant()
    for tenant in (doomed, kept):
        db.session.add(_row(make.member(tenant), make.plan(tenant), NOW))
    db.session.commit()
    db.session.execute(sa.text("DELETE FROM tenants WHERE id = :t"), {"t": doomed.id})
    db.session.commit()
    assert {k[0] for k in stored_counts(db)} == {k[0] for k in stored_statuses(db)} == {kept.id}
    assert stored_counts(db) == direct_counts(db) and stored_statuses(db) == direct_statuses(db)


def test_every_zone_starts_its_days_on_a_slot():
    """A window of whole local days is a range of whole slots in every zone a tenant can choose."""
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(730)]
    off = {zone for zone in available_timezones() for day in days
           if clock.day_bounds(zone, day)[0].timestamp() % SLOT_SECONDS}
    assert not off

"""P3: dashboard pages on the big tenant against the same pages on the small one (the baseline).

Every page is fetched through the real app (routing, login, templates) with Flask's test client, as the
tenant's owner; the figure is the median of 3 fetches after one warm-up. Also timed: a profile's rank for
a low-XP member and the daily-stats snapshot (each 10 minutes), which are not pages but have the same goal.
"""
from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from bench import common, seed

PAGE_GOAL = common.Goal(max_value=100, max_ratio=2.0)
RANK_GOAL = common.Goal(max_value=20)


def probes(tenant_id: int) -> dict[str, str]:
    """Page URLs for one tenant, with search terms taken from that tenant's own rows."""
    from app.extensions import db
    from app.models import Member

    members = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant_id, Member.username.is_not(None))
                                 .order_by(Member.telegram_id).limit(200)).all()
    one = members[len(members) // 2]
    middle_id = db.session.scalar(sa.select(sa.func.percentile_disc(0.5).within_group(Member.id))
                                  .where(Member.tenant_id == tenant_id))
    return {
        "overview": "/overview/",
        "member_list": "/members/",
        "member_list.next_page": f"/members/?before={middle_id}",
        "member_search.username_rare": f"/members/?q={one.username[:9]}",
        "member_search.username_common": f"/members/?q={one.username[:3]}",
        "member_search.name": f"/members/?q={one.first_name[:3]}",
        "member_search.no_match": "/members/?q=qqqzzz",
        "member_search.telegram_id": f"/members/?q={one.telegram_id}",
        "member_page": f"/members/{one.id}",
        "receipt_queue": "/receipts/",
        "receipt_history": "/receipts/history",
        "leaderboard": "/leaderboard/",
        "leaderboard.today": "/leaderboard/?period=today",
    }


def owner_client(app, tenant_id: int):
    client = app.test_client()
    response = client.post("/login", data={"email": seed.OWNER_EMAIL, "password": seed.OWNER_PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    with client.session_transaction() as session:
        session["tenant_id"] = tenant_id
    return client


def page_ms(client, url: str) -> float:
    """The page's median time (the overview's charts are figures the browser draws: every showing costs the same)."""
    from app.extensions import db

    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        db.session.remove()
    return common.median_ms(fetch)


def run_pages(app, world) -> list[common.Result]:
    big, small = owner_client(app, world.big_tenant_id), owner_client(app, world.small_tenant_id)
    big_urls, small_urls = probes(world.big_tenant_id), probes(world.small_tenant_id)
    results = []
    for name, url in big_urls.items():
        results.append(common.report(common.Result(
            f"P3.{name}", f"GET {url.split('?')[0]}{' (' + name.split('.')[-1] + ')' if '.' in name else ''}",
            page_ms(big, url), "ms", page_ms(small, small_urls[name]), f"{world.small_members:,} members",
            PAGE_GOAL, world.big_members)))
    return results


def low_xp_member(tenant_id: int):
    """A member near the bottom of the all-time board: almost everyone is ahead of them."""
    from app.extensions import db
    from app.models import Member

    return db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant_id, Member.total_xp > 0)
                              .order_by(Member.total_xp, Member.id).limit(1)).one()


def run_rank_and_stats(world) -> list[common.Result]:
    from datetime import datetime

    from app.extensions import db
    from app.jobs import stats
    from app.models import Member, Tenant
    from app.services import leaderboard

    def rank_ms(tenant_id):
        member = low_xp_member(tenant_id)
        return common.median_ms(lambda: leaderboard.rank_of(member))

    def naive_rank_ms(tenant_id):
        """The count of every member ahead that rank_of was before member_xp_counts, for the note."""
        member = low_xp_member(tenant_id)
        ahead = sa.tuple_(Member.total_xp, Member.id) > sa.tuple_(sa.literal(member.total_xp), sa.literal(member.id))
        inner = sa.select(Member.id).where(Member.tenant_id == tenant_id, ahead).order_by(Member.total_xp, Member.id)
        query = sa.select(sa.func.count()).select_from(inner.limit(leaderboard.MAX_RANK_COUNT).subquery())
        return common.median_ms(lambda: db.session.scalar(query))

    def stats_ms(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        return common.median_ms(lambda: (stats.snapshot_today(tenant, datetime.now(UTC)),
                                         db.session.rollback()))
    baseline = f"{world.small_members:,} members"
    return [
        common.report(common.Result("P3.rank", "profile rank of a low-XP member", rank_ms(world.big_tenant_id), "ms",
                                    rank_ms(world.small_tenant_id), baseline, RANK_GOAL, world.big_members,
                                    note=f"the former count of members ahead: {naive_rank_ms(world.big_tenant_id):,.0f} ms")),
        common.report(common.Result("P3.daily_stats", "daily stats snapshot (every 10 min)",
                                    stats_ms(world.big_tenant_id), "ms", stats_ms(world.small_tenant_id), baseline,
                                    PAGE_GOAL, world.big_members)),
    ]


def run(app, world) -> list[common.Result]:
    return run_pages(app, world) + run_rank_and_stats(world)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--rank-only", action="store_true", help="only P3.rank and P3.daily_stats")
    args = p.parse_args()
    with common.seeded_app(args) as (app, world):
        print(common.TABLE_HEADER)
        run_rank_and_stats(world) if args.rank_only else run(app, world)


if __name__ == "__main__":
    main()

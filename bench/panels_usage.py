"""PANELS: the usage job reads 10,000 panel users in one bounded pass (issue 19).

A throwaway Postgres database gets a tenant whose plan sells through the sandbox's Marzban emulator,
`--users` subscriptions with their panel users (set-based inserts), and the emulator the same users,
each reporting some traffic. Measured: one `read_panel_usage` pass (all users changed: every
subscription, the tenant counters and the wallet chart row are written) and the panel requests it made
(pages of 1,000). Baseline in the same run: the naive way, one `GET /api/user/{username}` per user,
timed on 200 users and scaled.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench import common

GOAL = common.Goal(max_value=30_000, max_ratio=0.5)
REQUEST_GOAL = common.Goal(max_value=12)
GB = 1024 ** 3


def seed(users: int, base_url: str):
    """The tenant, a panel on the emulator, a 50 GB plan and `users` subscriptions with panel users."""
    from app.extensions import db
    from app.models import Member, PanelUser, Subscription
    from app.services import tenancy
    from app.services.panels import admin

    owner = tenancy.create_account("bench-panels@example.com", "bench-password-1")
    tenant = tenancy.create_tenant("Bench VPN", owner)
    panel = admin.create_panel(tenant, name="Bench Marzban", kind="marzban", base_url=base_url,
                               username="admin", password="admin")
    plan = _plan(tenant)
    admin.map_plan(tenant, plan, panel, {"proxies": {"vless": {}}})
    now = datetime.now(UTC)
    db.session.execute(sa.insert(Member), [
        {"tenant_id": tenant.id, "telegram_id": 10_000_000 + i, "referral_code": f"b{i}"} for i in range(users)])
    member_ids = db.session.scalars(sa.select(Member.id).where(Member.tenant_id == tenant.id).order_by(Member.id)).all()
    db.session.execute(sa.insert(Subscription), [
        {"tenant_id": tenant.id, "member_id": m, "plan_id": plan.id, "status": "active", "starts_at": now,
         "ends_at": now + timedelta(days=30), "traffic_limit_bytes": 50 * GB, "traffic_used_bytes": 0,
         "source": "grant"} for m in member_ids])
    subs = db.session.scalars(sa.select(Subscription.id).where(Subscription.tenant_id == tenant.id)
                              .order_by(Subscription.id)).all()
    db.session.execute(sa.insert(PanelUser), [
        {"tenant_id": tenant.id, "subscription_id": s, "panel_id": panel.id, "username": f"bench{i}",
         "status": "active", "config_links": [], "used_bytes": 0, "version": 1} for i, s in enumerate(subs)])
    db.session.commit()
    return tenant.id, panel.id


def _plan(tenant):
    from app.services import plans
    return plans.create_plan(tenant, name="Bench 50 GB", period_days=30, price=100_000, traffic_gb=50)


def one_pass_ms(tenant_id: int, panel_id: int) -> tuple[float, object]:
    from app.extensions import db
    from app.models import Panel, Tenant
    from app.services.panels import usage

    tenant, panel = db.session.get(Tenant, tenant_id), db.session.get(Panel, panel_id)
    start = time.perf_counter()
    result = usage.read_panel_usage(tenant, panel, datetime.now(UTC))
    db.session.commit()
    return (time.perf_counter() - start) * 1000, result


def per_user_get_ms(panel_id: int, sample: int) -> float:
    """ms per user of the naive read: one GET /api/user/{username} each."""
    from app.extensions import db
    from app.models import Panel
    from app.services.panels import adapter_for

    adapter = adapter_for(db.session.get(Panel, panel_id))
    adapter.get_user("bench0")  # log in first
    start = time.perf_counter()
    for i in range(sample):
        adapter.get_user(f"bench{i}")
    return (time.perf_counter() - start) * 1000 / sample


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=10_000, help="panel users (default 10,000)")
    args = p.parse_args()
    from bots.emulator import SandboxServer

    with SandboxServer() as server, common.throwaway_database("bench_panels") as url:
        app = common.make_app(url)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            tenant_id, panel_id = seed(args.users, f"{server.url}/panels/marzban")
            emulator = server.app.panels.find("marzban")
            emulator.seed(args.users, "bench", 3 * GB)
            requests_before = _requests(server)
            elapsed, result = one_pass_ms(tenant_id, panel_id)
            requests_made = _requests(server) - requests_before
            baseline = per_user_get_ms(panel_id, 200) * args.users
            _check(result, args.users)
            print(common.TABLE_HEADER)
            common.report(common.Result(
                "PANELS.usage_pass", f"usage job: one pass over {args.users:,} panel users (all changed)",
                elapsed, "ms", baseline, "one GET per user, scaled from 200", GOAL, args.users,
                note=f"read {result.read:,}, consumed {result.consumed_bytes / GB:,.0f} GB"))
            common.report(common.Result(
                "PANELS.usage_requests", f"panel requests in that pass ({args.users:,} users, pages of 1,000)",
                requests_made, "requests", None, "", REQUEST_GOAL, args.users))
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()


def _requests(server) -> int:
    return server.app.panels.find("marzban").requests


def _check(result, users: int) -> None:
    """The pass really did the work: every user read and counted."""
    from app.extensions import db
    from app.models import Subscription, Tenant

    assert result.read == users and result.error is None, result
    used = db.session.scalar(sa.select(sa.func.sum(Subscription.traffic_used_bytes)))
    assert used == users * 3 * GB, used
    assert db.session.scalar(sa.select(Tenant.traffic_consumed_bytes).where(Tenant.traffic_consumed_bytes > 0)) \
        == users * 3 * GB


if __name__ == "__main__":
    main()

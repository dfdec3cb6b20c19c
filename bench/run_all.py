"""Seed once, run every database measure on that seed, print the table (make bench / make bench-full).

Measures that need no seeded tenant (polling bots at scale) run as their own scripts from the Makefile.
"""
from __future__ import annotations

import importlib
import os
import platform
from datetime import UTC, datetime

from bench import common

SEEDED_MEASURES = ("bench.p3_dashboard", "bench.p4_daily_reset", "bench.p5_approvals")


def machine() -> str:
    import sqlalchemy as sa

    from app.extensions import db

    version = db.session.scalar(sa.text("SHOW server_version"))
    return (f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {version}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def main() -> None:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="module names to run (default: all)")
    args = parser.parse_args()
    with common.seeded_app(args) as (app, world):
        print(f"# {machine()}; big tenant {world.big_members:,} members, small {world.small_members:,}")
        print(common.TABLE_HEADER, flush=True)
        for name in args.only or SEEDED_MEASURES:
            importlib.import_module(name).run(app, world)


if __name__ == "__main__":
    main()

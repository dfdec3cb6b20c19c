"""IMPORT: `flask import members --from users-table` moves N members (with balances) in minutes (issue 17).

A throwaway Postgres database holds the source `users` table of the first plan (generate_series: N rows,
70% with a balance, Persian and Latin names); another is Botfleet's. Measured: members imported per second
by the set-based importer (app.services.imports), batches committed as the CLI does. Baseline in the same
run: the per-row path a naive importer would take (get_or_create_member + ledger.credit_member per row),
timed on 2,000 rows.
"""
from __future__ import annotations

import time

import sqlalchemy as sa

from bench import common

#: A million rows in under ~4 minutes, and much faster than row by row.
GOAL = common.Goal(min_value=4_000, min_ratio=5)
SOURCE_SQL = """
CREATE TABLE users (telegram_id BIGINT, telegram_user_name VARCHAR(64), username VARCHAR(64),
  first_name VARCHAR(128), last_name VARCHAR(128), language_code VARCHAR(8), balance DECIMAL(10,2),
  "VIP_level" INTEGER, is_active BOOLEAN, is_newcomer BOOLEAN, created_at TIMESTAMP);
INSERT INTO users SELECT 100000000 + g, NULL, 'u' || md5(g::text), (ARRAY['Sara','Reza','Ali','Мария','Neda'])[1 + g % 5],
  (ARRAY['Ahmadi','Karimi',NULL,'Иванова'])[1 + g % 4], (ARRAY['fa','en','ru','de'])[1 + g % 4],
  CASE WHEN g % 10 < 7 THEN (g % 500) * 1000 + 0.50 ELSE 0 END, g % 3, TRUE, g % 2 = 0,
  now() - (g % 400) * interval '1 day'
FROM generate_series(1, {rows}) AS g;
"""


def fill_source(url: str, rows: int) -> None:
    engine = sa.create_engine(url)
    conn = engine.raw_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute(SOURCE_SQL.replace("{rows}", str(int(rows))))
        conn.commit()
    finally:
        conn.close()
        engine.dispose()


def importer_rate(source_url: str, rows: int) -> float:
    """Members per second of the set-based importer, committing each batch as the CLI does."""
    from app.extensions import db
    from app.services import imports, tenancy

    tenant = tenancy.create_tenant("Bench import", tenancy.create_account("bench-import@example.com", "bench-pw-123"))
    db.session.commit()
    start = time.perf_counter()
    report = imports.import_users_table(tenant, source_url, checkpoint=lambda n: db.session.commit())
    db.session.commit()
    elapsed = time.perf_counter() - start
    assert report.imported == rows, report.as_dict()
    return rows / elapsed


def per_row_rate(sample: int) -> float:
    """Members per second of the row-by-row path, on `sample` rows."""
    from app.extensions import db
    from app.services import ledger, members, tenancy

    tenant = tenancy.create_tenant("Bench rows", tenancy.create_account("bench-rows@example.com", "bench-pw-123"))
    db.session.commit()
    start = time.perf_counter()
    for i in range(sample):
        member, _ = members.get_or_create_member(tenant, 900_000_000 + i, first_name="Sara", language_code="fa")
        ledger.credit_member(member, 1000 + i, key=f"rows:{i}", kind="opening_balance")
        if i % 500 == 499:
            db.session.commit()
    db.session.commit()
    return sample / (time.perf_counter() - start)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    with common.throwaway_database("bench_import_src") as source, common.throwaway_database("bench_import") as url:
        fill_source(source, args.members)
        app = common.make_app(url)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            rate = importer_rate(source, args.members)
            baseline = per_row_rate(2_000)
            print(common.TABLE_HEADER)
            common.report(common.Result(
                "IMPORT.users_table", f"import {args.members:,} members (70% with a balance) from a users table",
                rate, "members/s", baseline, "row by row (get_or_create + ledger), 2,000 rows", GOAL, args.members,
                note=f"{args.members / rate:,.0f} s in all"))
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()

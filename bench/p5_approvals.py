"""P5: receipt approvals per second with 8 threads on distinct receipts, against 1 thread (the baseline).

Each approval is the service call the dashboard makes (receipts.approve as the tenant's owner), in its own
app context and transaction, committed. Afterwards: no receipt credited twice, and every touched member's
balance equals the sum of their ledger entries. Also counted: SQL statements of one approval.
"""
from __future__ import annotations

import queue
import threading
import time

import sqlalchemy as sa

from bench import common, seed

THREADS = 8
APPROVALS = 800
GOAL = common.Goal(min_value=200)
STATEMENT_GOAL = common.Goal(max_value=10)

PENDING_SQL = """
INSERT INTO receipts (tenant_id, member_id, purpose, amount, tracking_code, status, created_at, submitted_at,
    expires_at)
SELECT m.tenant_id, m.id, 'topup', 50000, :prefix || m.id, 'pending_review', now(), now(), now() + interval '1 day'
FROM members m
WHERE m.tenant_id = :t AND NOT m.is_banned AND NOT EXISTS (
    SELECT 1 FROM receipts r WHERE r.member_id = m.id AND r.status IN ('awaiting_receipt', 'pending_review'))
ORDER BY hashtext('p' || m.id) LIMIT :n
RETURNING id
"""


def pending_receipts(tenant_id: int, n: int, prefix: str) -> list[int]:
    from app.extensions import db

    ids = list(db.session.scalars(sa.text(PENDING_SQL), {"t": tenant_id, "n": n, "prefix": prefix}))
    db.session.commit()
    return ids


def approve_all(app, receipt_ids: list[int], threads: int) -> float:
    """Approve every receipt with `threads` workers; approvals per second."""
    work: queue.Queue = queue.Queue()
    for receipt_id in receipt_ids:
        work.put(receipt_id)
    errors: list[BaseException] = []

    def worker():
        with app.app_context():
            while True:
                try:
                    receipt_id = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    approve_one(receipt_id)
                except BaseException as exc:  # noqa: BLE001 - counted and reported below
                    errors.append(exc)
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} approvals failed; first: {errors[0]!r}")
    return len(receipt_ids) / elapsed


def approve_one(receipt_id: int) -> None:
    from app.extensions import db
    from app.models import Receipt
    from app.services import receipts, tenancy

    try:
        owner = tenancy.find_account(seed.OWNER_EMAIL)
        receipts.approve(db.session.get(Receipt, receipt_id), receipts.Reviewer(account=owner))
        db.session.commit()
    finally:
        db.session.remove()


def double_credits(receipt_ids: list[int]) -> int:
    """Receipts credited more than once plus members whose balance is not their ledger's sum."""
    from app.extensions import db

    doubled = db.session.scalar(sa.text(
        "SELECT count(*) FROM (SELECT ref_id FROM ledger_entries WHERE ref_type = 'receipt' AND ref_id = ANY(:ids) "
        "GROUP BY ref_id HAVING count(*) > 1) d"), {"ids": receipt_ids})
    drifted = db.session.scalar(sa.text(
        "SELECT count(*) FROM members m JOIN receipts r ON r.member_id = m.id AND r.id = ANY(:ids) "
        "WHERE m.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries l "
        "WHERE l.member_id = m.id AND l.account = 'member_balance')"), {"ids": receipt_ids})
    return doubled + drifted


def statements_of_one_approval(app, receipt_id: int) -> int:
    """Statements of receipts.approve and its commit, with the reviewer's account and the receipt loaded first
    (as the dashboard's request has them: the signed-in account, the receipt of the page)."""
    from app.extensions import db
    from app.models import Receipt
    from app.services import receipts, tenancy

    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    with app.app_context():
        owner, receipt = tenancy.find_account(seed.OWNER_EMAIL), db.session.get(Receipt, receipt_id)
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            receipts.approve(receipt, receipts.Reviewer(account=owner))
            db.session.commit()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
            db.session.remove()
    return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])


def run(app, world) -> list[common.Result]:
    serial_ids = pending_receipts(world.big_tenant_id, APPROVALS // 4, "P5S-")
    parallel_ids = pending_receipts(world.big_tenant_id, APPROVALS, "P5P-")
    one = pending_receipts(world.big_tenant_id, 1, "P5O-")
    serial = approve_all(app, serial_ids, 1)
    parallel = approve_all(app, parallel_ids, THREADS)
    doubles = double_credits(serial_ids + parallel_ids)
    statements = statements_of_one_approval(app, one[0])
    return [
        common.report(common.Result(
            "P5.approvals", f"receipt approvals/s, {THREADS} threads, {len(parallel_ids)} distinct receipts",
            parallel, "/s", serial, "1 thread", GOAL, world.big_members,
            note=f"double credits or drifted balances: {doubles}")),
        common.report(common.Result(
            "P5.statements", "SQL statements of one approval", statements, "statements", None, "", STATEMENT_GOAL,
            world.big_members, note="receipts.approve with the account and receipt already loaded")),
    ]


def main() -> None:
    args = common.parser(__doc__.splitlines()[0]).parse_args()
    with common.seeded_app(args) as (app, world):
        print(common.TABLE_HEADER)
        run(app, world)


if __name__ == "__main__":
    main()

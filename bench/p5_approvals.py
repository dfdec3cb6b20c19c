"""P5: receipt approvals per second by 8 concurrent approvers on distinct receipts, against 1 thread (the baseline).

What runs: each approval is the service call the dashboard's approve route makes (receipts.approve as the
tenant's owner, who is looked up as flask-login loads the signed-in account), in its own app context and
transaction, committed. No HTTP: the request's own cost (routing, CSRF, the template) is not in the figure.

The measured row, P5.approvals, runs the 8 approvers as production runs them: gunicorn serves the dashboard
with several worker processes of 4 threads each (gunicorn.conf.py), so here 2 processes × 4 threads
(`--processes`, as bench/p2_webhook.py's gunicorn 2×4), each process a fresh interpreter with the app
(multiprocessing "spawn"), half of the receipts each; the rate is all approvals over the wall time from the
common start signal to the last process's last commit. The second row, P5.approvals.one_process, is the same
8 approvers as threads of one process (the figure quoted before 1 Dec 2026): they share one GIL, so it is
bounded by the Python time of one approval. The baseline is 1 thread, in this process.

Afterwards: no receipt credited twice, and every touched member's balance equals the sum of their ledger
entries (the note of the first row counts both, for every receipt of the run). Also counted: SQL statements
of one approval.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time

import sqlalchemy as sa

from bench import common, seed

THREADS = 8
PROCESSES = 2
APPROVALS = 800
GOAL = common.Goal(min_value=200)
STATEMENT_GOAL = common.Goal(max_value=10)

PENDING_SQL = """
INSERT INTO receipts (tenant_id, member_id, purpose, amount, tracking_code, status, created_at, submitted_at,
    expires_at, card_id)
SELECT m.tenant_id, m.id, 'topup', 50000, :prefix || m.id, 'pending_review', now(), now(), now() + interval '1 day',
    c.id
FROM members m
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
      FROM payment_cards WHERE tenant_id = :t AND is_active) c ON c.k = m.id % c.n
WHERE m.tenant_id = :t AND NOT m.is_banned AND NOT EXISTS (
    SELECT 1 FROM receipts r WHERE r.member_id = m.id AND r.status IN ('awaiting_receipt', 'pending_review'))
ORDER BY hashtext('p' || m.id) LIMIT :n
RETURNING id
"""


def pending_receipts(tenant_id: int, n: int, prefix: str) -> list[int]:
    """`n` new receipts awaiting review, of members with no open receipt, each on one of the tenant's cards (as
    real receipts are: the approval moves the card's counters, under its row lock). Their tracking codes are `prefix`, a
    random tag (so a kept database can run the bench again) and the member id: at most 16 characters."""
    from app.extensions import db

    prefix = f"{prefix}{os.urandom(2).hex()}-"
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


def approve_in_processes(app, receipt_ids: list[int], processes: int, threads: int) -> float:
    """Approve every receipt with `processes` fresh processes of `threads` threads each (as gunicorn's workers
    serve the dashboard); approvals per second from the common start to the last process's end."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    shares = [receipt_ids[i::processes] for i in range(processes)]
    workers = [context.Process(target=_approver_process, args=(url, share, threads, ready, go, results))
               for share in shares]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    start = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in every process
    go.set()
    outcomes = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    failed = [error for _, error in outcomes if error]
    if failed:
        raise RuntimeError(f"an approver process failed: {failed[0]}")
    return len(receipt_ids) / (max(end for end, _ in outcomes) - start)


def _approver_process(url: str, receipt_ids: list[int], threads: int, ready, go, results) -> None:
    """One approver process: the app on `url`, warmed (imports, a pooled connection, the owner read), then
    `threads` threads approving `receipt_ids` once `go` is set; puts (end time, error or None)."""
    try:
        app = common.make_app(url)
        with app.app_context():
            from app.services import tenancy

            tenancy.find_account(seed.OWNER_EMAIL)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        ready.put(False)
        results.put((0.0, repr(exc)))
        return
    ready.put(True)
    go.wait()
    try:
        approve_all(app, receipt_ids, threads)
        results.put((time.perf_counter(), None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put((time.perf_counter(), repr(exc)))


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
    """Statements of receipts.approve and its commit, with the reviewer's account, the receipt and its tenant
    loaded first (as the dashboard's request has them: the signed-in account, the tenant, the receipt of the page)."""
    from app.extensions import db
    from app.models import Receipt, Tenant
    from app.services import receipts, tenancy

    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    with app.app_context():
        owner, receipt = tenancy.find_account(seed.OWNER_EMAIL), db.session.get(Receipt, receipt_id)
        db.session.get(Tenant, receipt.tenant_id)  # the request's tenant context has it loaded
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            receipts.approve(receipt, receipts.Reviewer(account=owner))
            db.session.commit()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
            db.session.remove()
    return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])


def run(app, world, processes: int = PROCESSES) -> list[common.Result]:
    serial_ids = pending_receipts(world.big_tenant_id, APPROVALS // 4, "P5S")
    parallel_ids = pending_receipts(world.big_tenant_id, APPROVALS, "P5P")
    threaded_ids = pending_receipts(world.big_tenant_id, APPROVALS, "P5T")
    one = pending_receipts(world.big_tenant_id, 1, "P5O")
    serial = approve_all(app, serial_ids, 1)
    parallel = approve_in_processes(app, parallel_ids, processes, THREADS // processes)
    threaded = approve_all(app, threaded_ids, THREADS)
    doubles = double_credits(serial_ids + parallel_ids + threaded_ids)
    statements = statements_of_one_approval(app, one[0])
    return [
        common.report(common.Result(
            "P5.approvals", f"receipt approvals/s, {THREADS} approvers ({processes} processes × "
            f"{THREADS // processes} threads, as gunicorn's workers), {len(parallel_ids)} distinct receipts",
            parallel, "/s", serial, "1 thread", GOAL, world.big_members,
            note=f"double credits or drifted balances: {doubles}")),
        common.report(common.Result(
            "P5.approvals.one_process", f"receipt approvals/s, {THREADS} threads in one process (one GIL), "
            f"{len(threaded_ids)} distinct receipts", threaded, "/s", serial, "1 thread", GOAL, world.big_members,
            note="bounded by the Python time of one approval")),
        common.report(common.Result(
            "P5.statements", "SQL statements of one approval", statements, "statements", None, "", STATEMENT_GOAL,
            world.big_members, note="receipts.approve with the account and receipt already loaded")),
    ]


def main() -> None:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=PROCESSES,
                        help=f"approver processes sharing the {THREADS} approvers (default {PROCESSES})")
    args = parser.parse_args()
    with common.seeded_app(args) as (app, world):
        print(common.TABLE_HEADER)
        run(app, world, args.processes)


if __name__ == "__main__":
    main()

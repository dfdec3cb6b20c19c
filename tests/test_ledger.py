import random
import threading

import pytest
import sqlalchemy as sa

from app.models import LedgerEntry, Member, Tenant
from app.services import ledger
from app.services.errors import IdempotencyConflict, InsufficientFunds, InvalidAmount


def entries_sum(db, member_id):
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.member_id == member_id))


def entries_count(db, **where):
    return db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).filter_by(**where))


def test_credit_and_debit_move_balance_and_write_entries(db, make):
    member = make.member(make.tenant())
    first = ledger.credit_member(member, 50_000, key="k1", kind="topup", actor="system")
    second = ledger.debit_member(member, 20_000, key="k2", kind="purchase", ref_type="plan", ref_id=3)
    db.session.commit()
    assert (first.amount, first.balance_after) == (50_000, 50_000)
    assert (second.amount, second.balance_after, second.ref_type, second.ref_id) == (-20_000, 30_000, "plan", 3)
    assert db.session.get(Member, member.id).balance == 30_000 == entries_sum(db, member.id)


def test_debit_below_zero_is_refused_and_changes_nothing(db, make):
    member = make.member(make.tenant(), balance=10_000)
    with pytest.raises(InsufficientFunds, match="10,000"):
        ledger.debit_member(member, 10_001, key="too-much", kind="purchase")
    db.session.rollback()
    assert db.session.get(Member, member.id).balance == 10_000
    assert ledger.find_entry(member.tenant_id, "too-much") is None


def test_repeated_key_returns_first_entry_and_moves_nothing(db, make):
    member = make.member(make.tenant())
    first = ledger.credit_member(member, 7_000, key="receipt:1", kind="topup")
    again = ledger.credit_member(member, 7_000, key="receipt:1", kind="topup")
    db.session.commit()
    assert again.id == first.id
    assert db.session.get(Member, member.id).balance == 7_000
    assert entries_count(db, member_id=member.id) == 1


def test_key_reused_for_another_operation_is_a_conflict(db, make):
    tenant = make.tenant()
    member, other = make.member(tenant), make.member(tenant)
    ledger.credit_member(member, 7_000, key="receipt:9", kind="topup")
    with pytest.raises(IdempotencyConflict):
        ledger.credit_member(other, 7_000, key="receipt:9", kind="topup")
    with pytest.raises(IdempotencyConflict):
        ledger.credit_member(member, 8_000, key="receipt:9", kind="topup")


def test_same_key_in_two_tenants_is_two_operations(db, make):
    a, b = make.member(make.tenant()), make.member(make.tenant())
    ledger.credit_member(a, 1_000, key="promo:1", kind="promocode")
    ledger.credit_member(b, 2_000, key="promo:1", kind="promocode")
    db.session.commit()
    assert (db.session.get(Member, a.id).balance, db.session.get(Member, b.id).balance) == (1_000, 2_000)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100", None, 1_000_000_001])
def test_bad_amounts_are_domain_errors(db, make, amount):
    member = make.member(make.tenant(), balance=1_000)
    with pytest.raises(InvalidAmount):
        ledger.credit_member(member, amount, key="bad", kind="topup")
    with pytest.raises(InvalidAmount):
        ledger.debit_member(member, amount, key="bad", kind="purchase")
    db.session.rollback()
    assert entries_count(db, member_id=member.id) == 1


def test_largest_amount_is_accepted(db, make):
    member = make.member(make.tenant())
    assert ledger.credit_member(member, 1_000_000_000, key="max", kind="topup").balance_after == 1_000_000_000


def test_wallet_may_use_its_credit_limit_but_not_more(db, make):
    tenant = make.tenant(wallet_credit_limit=5_000)
    ledger.credit_wallet(tenant, 10_000, key="w1", kind="wallet_topup")
    entry = ledger.debit_wallet(tenant, 15_000, key="w2", kind="wholesale")
    assert (entry.balance_after, entry.member_id, entry.account) == (-5_000, None, "tenant_wallet")
    with pytest.raises(InsufficientFunds):
        ledger.debit_wallet(tenant, 1, key="w3", kind="wholesale")
    db.session.commit()
    assert db.session.get(Tenant, tenant.id).wallet_balance == -5_000


def test_entry_is_rolled_back_with_the_transaction(db, make):
    member = make.member(make.tenant())
    ledger.credit_member(member, 3_000, key="rb", kind="topup")
    db.session.rollback()
    assert db.session.get(Member, member.id).balance == 0
    assert ledger.find_entry(member.tenant_id, "rb") is None


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_concurrent_credits_and_debits_keep_every_balance_equal_to_its_entries(app, db, make):
    tenant = make.tenant()
    member_ids = [make.member(tenant).id for _ in range(20)]
    used_keys: list[str] = []
    keys_lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        with app.app_context():
            for i in range(200):
                try:
                    _one_random_operation(rng, seed, i, member_ids, used_keys, keys_lock)
                except BaseException as err:  # noqa: BLE001 - collected and re-raised by the test
                    errors.append(err)
                    return

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

    db.session.expire_all()
    for member_id in member_ids:
        balance = db.session.get(Member, member_id).balance
        assert balance >= 0
        assert balance == entries_sum(db, member_id)
    duplicated = db.session.execute(
        sa.select(LedgerEntry.idempotency_key).group_by(LedgerEntry.tenant_id, LedgerEntry.idempotency_key)
        .having(sa.func.count() > 1)).all()
    assert duplicated == []
    assert entries_count(db, tenant_id=tenant.id) > 800


def _one_random_operation(rng, seed, i, member_ids, used_keys, keys_lock):
    from app.extensions import db

    with keys_lock:
        repeat = used_keys and rng.random() < 0.10
        key = rng.choice(used_keys) if repeat else f"t{seed}-op{i}"
    member_id, amount = _target_of(key, member_ids), 1_000 * (1 + hash(key) % 50)
    member = db.session.get(Member, member_id)
    try:
        if _is_credit(key):
            ledger.credit_member(member, amount, key=key, kind="topup")
        else:
            ledger.debit_member(member, amount, key=key, kind="purchase")
        db.session.commit()
    except InsufficientFunds:
        db.session.rollback()
    with keys_lock:
        used_keys.append(key)


def _target_of(key: str, member_ids) -> int:
    """A key always names the same member and direction, so a repeat is a true repeat."""
    return member_ids[sum(map(ord, key)) % len(member_ids)]


def _is_credit(key: str) -> bool:
    return sum(map(ord, key)) % 3 != 0

"""The ledger: the only way a member balance or a tenant wallet changes.

Each call locks the balance row, refuses to overdraw it, moves it, and writes a LedgerEntry with
`balance_after`, all in the caller's transaction. An idempotency key makes a repeat a no-op that
returns the first entry.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerAccount, LedgerEntry, Member, Tenant
from app.services import events
from app.services.amounts import check_amount
from app.services.errors import IdempotencyConflict, InsufficientFunds, NotFound
from app.services.locking import lock_row


def credit_member(member: Member, amount: int, *, key: str, kind: str, **details) -> LedgerEntry:
    """Add `amount` Toman to a member's balance."""
    return _move_member(member, check_amount(amount), key=key, kind=kind, **details)


def debit_member(member: Member, amount: int, *, key: str, kind: str, **details) -> LedgerEntry:
    """Take `amount` Toman from a member's balance; InsufficientFunds if it would go below zero."""
    return _move_member(member, -check_amount(amount), key=key, kind=kind, **details)


def credit_wallet(tenant: Tenant, amount: int, *, key: str, kind: str, **details) -> LedgerEntry:
    """Add `amount` Toman to a tenant's wallet."""
    return _move_wallet(tenant, check_amount(amount), key=key, kind=kind, **details)


def debit_wallet(tenant: Tenant, amount: int, *, key: str, kind: str, **details) -> LedgerEntry:
    """Take `amount` Toman from a tenant's wallet, down to minus its credit limit at most."""
    return _move_wallet(tenant, -check_amount(amount), key=key, kind=kind, **details)


def credit_locked_member(locked: Member, amount: int, *, key: str, kind: str, **details) -> LedgerEntry:
    """credit_member for a caller that holds `locked`'s row lock and knows `key` is new.

    No lock, look-up or flush: the balance changes in memory and the entry is added to the session, so
    the member row is written once with everything else the operation changes (receipts.approve). The
    (tenant, key) unique constraint still refuses a repeat at flush. Once it has flushed, the caller
    announces the entry with events.balance_changed(entry), as the other ledger calls do themselves.
    """
    amount = check_amount(amount)
    locked.balance += amount
    entry = _entry(locked.tenant_id, LedgerAccount.MEMBER_BALANCE, locked.id, amount, locked.balance,
                   key=key, kind=kind, **details)
    db.session.add(entry)
    return entry


def find_entry(tenant_id: int, key: str) -> LedgerEntry | None:
    return db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.tenant_id == tenant_id, LedgerEntry.idempotency_key == key)
    )


def _move_member(member: Member, delta: int, *, key: str, kind: str, **details) -> LedgerEntry:
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    if locked is None:
        raise NotFound("This member no longer exists.")
    previous = _previous(locked.tenant_id, key, LedgerAccount.MEMBER_BALANCE, locked.id, delta)
    if previous:
        return previous
    if locked.balance + delta < 0:
        raise InsufficientFunds(
            f"The balance is {locked.balance:,} Toman, less than the {-delta:,} Toman needed.",
            balance=locked.balance, needed=-delta,
        )
    locked.balance += delta
    entry = _write(locked.tenant_id, LedgerAccount.MEMBER_BALANCE, locked.id, delta, locked.balance,
                   key=key, kind=kind, **details)
    events.balance_changed(entry)
    return entry


def _move_wallet(tenant: Tenant, delta: int, *, key: str, kind: str, **details) -> LedgerEntry:
    locked = lock_row(Tenant, tenant.id)
    if locked is None:
        raise NotFound("This tenant no longer exists.")
    previous = _previous(locked.id, key, LedgerAccount.TENANT_WALLET, None, delta)
    if previous:
        return previous
    if locked.wallet_balance + delta < -locked.wallet_credit_limit:
        raise InsufficientFunds(
            f"The wallet holds {locked.wallet_balance:,} Toman (credit limit {locked.wallet_credit_limit:,}), "
            f"not enough for {-delta:,} Toman.",
            balance=locked.wallet_balance, needed=-delta,
        )
    locked.wallet_balance += delta
    return _write(locked.id, LedgerAccount.TENANT_WALLET, None, delta, locked.wallet_balance,
                  key=key, kind=kind, **details)


def _previous(tenant_id: int, key: str, account: LedgerAccount, member_id, delta: int) -> LedgerEntry | None:
    """The entry already written under `key`, after checking it was the same operation."""
    entry = find_entry(tenant_id, key)
    if entry and (entry.account, entry.member_id, entry.amount) != (account.value, member_id, delta):
        raise IdempotencyConflict(f"The key {key!r} was already used for a different ledger operation.")
    return entry


def _write(tenant_id, account: LedgerAccount, member_id, delta, balance_after, **details) -> LedgerEntry:
    entry = _entry(tenant_id, account, member_id, delta, balance_after, **details)
    db.session.add(entry)
    db.session.flush()
    return entry


def _entry(tenant_id, account: LedgerAccount, member_id, delta, balance_after, *, key, kind,
           ref_type=None, ref_id=None, note=None, actor=None) -> LedgerEntry:
    return LedgerEntry(
        tenant_id=tenant_id, member_id=member_id, account=account.value, amount=delta,
        balance_after=balance_after, kind=kind, ref_type=ref_type, ref_id=ref_id,
        idempotency_key=key, note=note, actor=actor,
    )

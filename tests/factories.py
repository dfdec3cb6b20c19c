"""Test data builders. Each commits, so threads and other connections see the rows."""
from __future__ import annotations

import itertools

from app.models import PaymentCard, Plan
from app.services import bots, ledger, members, tenancy
from tests.helpers import csrf_token

PASSWORD = "correct-horse-42"
_seq = itertools.count(1)


def luhn_complete(prefix15: str) -> str:
    """prefix15 plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(prefix15)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return prefix15 + str((10 - total % 10) % 10)


class Factories:
    def __init__(self, db):
        self.db = db

    def _saved(self, obj):
        self.db.session.commit()
        return obj

    def account(self, email=None, password=PASSWORD, **kw):
        n = next(_seq)
        return self._saved(tenancy.create_account(email or f"user{n}@example.com", password, **kw))

    def tenant(self, name=None, owner=None, **fields):
        n = next(_seq)
        owner = owner or self.account(f"owner{n}@example.com")
        return self._saved(tenancy.create_tenant(name or f"Tenant {n}", owner, **fields))

    def staff(self, tenant, role, email=None):
        account = self.account(email)
        tenancy.add_member_account(tenant, account, role)
        return self._saved(account)

    def member(self, tenant, balance: int = 0, telegram_id=None, **fields):
        member = members.create_member(tenant, telegram_id or 10_000_000 + next(_seq), **fields)
        if balance:
            ledger.credit_member(member, balance, key=f"factory:{member.id}", kind="adjustment", actor="system")
        return self._saved(member)

    def bot(self, tenant, token=None, username=None):
        n = next(_seq)
        token = token or f"{5_000_000 + n}:test-token-{n:04d}"
        bot_id = int(token.split(":")[0])
        return self._saved(bots.create_bot(tenant, token, telegram_bot_id=bot_id,
                                           username=username or f"sandbox{bot_id}_bot"))

    def plan(self, tenant, name=None, price=100_000, period_days=30, **fields):
        plan = Plan(tenant_id=tenant.id, name=name or f"Plan {next(_seq)}", price=price,
                    period_days=period_days, **fields)
        self.db.session.add(plan)
        return self._saved(plan)

    def card(self, tenant, number=None, **fields):
        number = number or luhn_complete(f"6037{next(_seq):011d}")
        fields.setdefault("holder_name", "Test Holder")
        fields.setdefault("bank_name", "Test Bank")
        card = PaymentCard(tenant_id=tenant.id, card_number=number, **fields)
        self.db.session.add(card)
        return self._saved(card)


class AuthActions:
    """Signs in through the real login form, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD, follow_redirects=False):
        token = csrf_token(self.client.get("/login"))
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                                follow_redirects=follow_redirects)

    def use_language(self, language="en"):
        """Pick the dashboard language for this client's session (Persian is the default)."""
        with self.client.session_transaction() as session:
            session["lang"] = language

    def logout(self):
        token = csrf_token(self.client.get("/"))
        return self.client.post("/logout", data={"csrf_token": token})

"""Promo codes from the owner's side: create, disable, list. Redeeming them is app/services/promocodes.py's job."""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, Plan, Promocode, PromocodeKind, Tenant
from app.services import audit
from app.services.errors import NotFound, ValidationFailed

CODE_RE = re.compile(r"^[A-Z0-9_-]{3,32}$")
#: The largest value per kind: Toman, days, percent, XP.
MAX_VALUE = {PromocodeKind.BALANCE.value: 1_000_000_000, PromocodeKind.PLAN_DAYS.value: 3650,
             PromocodeKind.DISCOUNT_PERCENT.value: 100, PromocodeKind.XP.value: 1_000_000}


def create_promocode(tenant: Tenant, *, code: str, kind: str, value: int, by: Account, plan: Plan | None = None,
                     max_uses: int | None = None, expires_at: datetime | None = None) -> Promocode:
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise ValidationFailed("A code has 3 to 32 letters, digits, - or _.")
    if kind not in MAX_VALUE:
        raise ValidationFailed(f"Unknown kind {kind!r}.")
    if type(value) is not int or not 1 <= value <= MAX_VALUE[kind]:
        raise ValidationFailed(f"The value is a whole number from 1 to {MAX_VALUE[kind]:,}.")
    if kind == PromocodeKind.PLAN_DAYS.value and plan is None:
        raise ValidationFailed("A plan-days code needs a plan.")
    if plan is not None and plan.tenant_id != tenant.id:
        raise NotFound("No such plan.")
    if db.session.scalar(sa.select(Promocode.id).where(Promocode.tenant_id == tenant.id, Promocode.code == code)):
        raise ValidationFailed(f"The code {code} exists already.")
    promo = Promocode(tenant_id=tenant.id, code=code, kind=kind, value=value, max_uses=max_uses,
                      expires_at=expires_at, plan_id=plan.id if plan else None)
    db.session.add(promo)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "promocode.create", f"promocode:{promo.id}", code=code, kind=kind)
    return promo


def disable_promocode(promo: Promocode, by: Account) -> Promocode:
    promo.is_active = False
    audit.record(promo.tenant_id, audit.actor_of(by), "promocode.disable", f"promocode:{promo.id}")
    db.session.flush()
    return promo

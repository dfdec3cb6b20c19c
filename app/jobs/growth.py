"""Growth jobs: the weekly top-10 badge."""
from __future__ import annotations

from datetime import datetime

from app.models import Tenant
from app.services import badges


def award_weekly_top10(tenant: Tenant, now: datetime) -> None:
    """Give this week's top 10 their badge (a job step); members who hold it already are skipped."""
    badges.award_weekly_top10(tenant)

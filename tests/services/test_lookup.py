"""A tenant's row by id (app/services/lookup.py): its own row, else NotFound, the same for a missing id and
another tenant's, without loading another tenant's row."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import Plan, Tenant
from app.services.errors import NotFound
from app.services.lookup import get_owned, owned_row


def test_a_tenants_own_row_is_found_and_anything_else_reads_as_missing(db, make):
    mine = make.tenant()
    plan_id, mine_id, theirs_id = make.plan(mine).id, mine.id, make.plan(make.tenant()).id
    db.session.expunge_all()
    mine = db.session.get(Tenant, mine_id)
    loaded = []

    def remember(_session, row):
        loaded.append(row)

    sa.event.listen(db.session, "loaded_as_persistent", remember)
    try:
        assert get_owned(Plan, mine, plan_id, "No such plan.").id == plan_id
        for missing in (theirs_id, 999_999, None):
            assert owned_row(Plan, mine, missing) is None
            with pytest.raises(NotFound) as refused:
                get_owned(Plan, mine, missing, "No such plan.")
            assert (refused.value.message, refused.value.code) == ("No such plan.", "not_found")
    finally:
        sa.event.remove(db.session, "loaded_as_persistent", remember)
    assert [row.id for row in loaded if isinstance(row, Plan)] == [plan_id]  # another tenant's never loaded

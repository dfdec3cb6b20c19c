import pytest

from app.services import levels
from app.services.errors import ValidationFailed
from app.services.levels import DEFAULT_LEVELS


def test_default_table_starts_at_zero_and_rises():
    assert DEFAULT_LEVELS[0] == 0
    assert all(b > a for a, b in zip(DEFAULT_LEVELS, DEFAULT_LEVELS[1:]))


@pytest.mark.parametrize("xp, level", [(0, 1), (99, 1), (100, 2), (249, 2), (250, 3), (12_000, 10), (10**9, 10)])
def test_level_for_follows_the_default_table(db, make, xp, level):
    assert levels.level_for(make.tenant(), xp) == level


def test_next_level_at_and_top_level(db, make):
    tenant = make.tenant()
    assert levels.next_level_at(tenant, 1) == 100
    assert levels.next_level_at(tenant, 9) == 12_000
    assert levels.next_level_at(tenant, 10) is None


def test_tenant_table_overrides_the_default(db, make):
    tenant = make.tenant()
    levels.set_thresholds(tenant, [0, 10, 20])
    db.session.commit()
    assert [levels.level_for(tenant, xp) for xp in (0, 9, 10, 25)] == [1, 1, 2, 3]
    assert levels.next_level_at(tenant, 3) is None


@pytest.mark.parametrize("table", [[], [5, 10], [0, 10, 10], [0, 20, 10], [0, "x"], "0,10", [0, True]])
def test_bad_tables_are_refused(db, make, table):
    tenant = make.tenant()
    with pytest.raises(ValidationFailed):
        levels.set_thresholds(tenant, table)
    assert "levels" not in (tenant.settings or {})


def test_malformed_stored_table_falls_back_to_default(db, make):
    tenant = make.tenant()
    tenant.settings = {"levels": [3, 2, 1]}
    assert levels.thresholds(tenant) == DEFAULT_LEVELS

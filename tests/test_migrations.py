"""The migrations build exactly the schema the models describe, and tear it down again."""
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from config import TestConfig
from tests import pg


@pytest.fixture
def empty_database_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg.fresh_database(f"botfleet_mig_{uuid.uuid4().hex[:12]}") as url:
        yield url


def schema_drift(metadata) -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        assert schema_drift(db.metadata) == []
        assert "uq_receipts_one_open_per_member" in {i["name"] for i in sa.inspect(db.engine).get_indexes("receipts")}
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_drift_is_detected_when_a_model_changes_without_a_migration(empty_database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        changed = sa.MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["members"].append_column(sa.Column("nickname", sa.String(40)))
        diffs = schema_drift(changed)
        db.engine.dispose()
    assert [d[0] for d in diffs] == ["add_column"] and diffs[0][3].name == "nickname"

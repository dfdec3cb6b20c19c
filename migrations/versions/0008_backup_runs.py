"""backup_runs: the outcome of each backup, for the platform admin

Revision ID: 0008_backup_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_backup_runs"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None

def upgrade():
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_runs")),
    )

def downgrade():
    op.drop_table("backup_runs")

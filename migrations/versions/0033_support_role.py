"""the support role: memberships and staff invitations accept 'support'

Revision ID: 0033_support_role
Revises: 0032_receipt_fingerprints
"""
from alembic import op

revision = '0033_support_role'
down_revision = '0032_receipt_fingerprints'
branch_labels = None
depends_on = None

TABLES = ("memberships", "staff_invitations")


def _roles(table: str, roles: tuple[str, ...]) -> None:
    # Batch mode: SQLite rebuilds the table to change a CHECK constraint; Postgres alters it in place.
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_role"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{table}_role"), "role IN (%s)" % ", ".join(f"'{r}'" for r in roles))


def upgrade():
    for table in TABLES:
        _roles(table, ("owner", "approver", "viewer", "support"))


def downgrade():
    op.execute("DELETE FROM memberships WHERE role = 'support'")
    op.execute("DELETE FROM staff_invitations WHERE role = 'support'")
    for table in TABLES:
        _roles(table, ("owner", "approver", "viewer"))

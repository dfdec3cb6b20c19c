"""dashboard indexes: member search and pages, receipt history and revenue

Revision ID: 0002_dashboard_indexes
Revises: 0001_initial
Create Date: 2026-11-23 01:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_dashboard_indexes'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

#: Case-insensitive prefix search of members by these columns (LIKE 'abc%' on lower(column)).
SEARCHED = ('username', 'first_name', 'last_name')


def upgrade():
    op.create_index('ix_members_tenant_id_id', 'members', ['tenant_id', 'id'])
    op.create_index('ix_receipts_tenant_reviewed_at', 'receipts', ['tenant_id', 'reviewed_at'])
    # Expression indexes: autogenerate neither writes nor compares them, so they are kept by hand.
    # text_pattern_ops lets Postgres answer LIKE 'prefix%' from the index whatever the database collation.
    ops = ' text_pattern_ops' if op.get_bind().dialect.name == 'postgresql' else ''
    for column in SEARCHED:
        op.create_index(f'ix_members_tenant_lower_{column}', 'members',
                        ['tenant_id', sa.text(f'lower({column}){ops}')])


def downgrade():
    for column in SEARCHED:
        op.drop_index(f'ix_members_tenant_lower_{column}', table_name='members')
    op.drop_index('ix_receipts_tenant_reviewed_at', table_name='receipts')
    op.drop_index('ix_members_tenant_id_id', table_name='members')

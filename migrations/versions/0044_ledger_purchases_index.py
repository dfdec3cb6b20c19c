"""ledger_entries: a partial index of member purchases by (tenant, created_at) carrying the amount, for the
overview's balance sales today (it filtered every member-balance entry of the day by kind)

Revision ID: 0044_ledger_purchases_index
Revises: 0043_plan_sale_counts
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0044_ledger_purchases_index'
down_revision = '0043_plan_sale_counts'
branch_labels = None
depends_on = None

PURCHASES = sa.text("account = 'member_balance' AND kind = 'purchase'")


def upgrade():
    op.create_index('ix_ledger_entries_tenant_purchases', 'ledger_entries', ['tenant_id', 'created_at'],
                    unique=False, postgresql_include=['amount'], postgresql_where=PURCHASES, sqlite_where=PURCHASES)


def downgrade():
    op.drop_index('ix_ledger_entries_tenant_purchases', table_name='ledger_entries')

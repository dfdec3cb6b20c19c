"""tenants.webhooks_version: a new random value at every change of the tenant's webhook endpoints (created, deleted,
enabled or disabled, events changed), so a process may keep the active endpoints per tenant and know when to read
them again

Revision ID: 0048_tenant_webhooks_version
Revises: 0047_drop_members_activity_index
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0048_tenant_webhooks_version'
down_revision = '0047_drop_members_activity_index'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenants', sa.Column('webhooks_version', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade():
    # Not a batch (a copy of tenants): SQLite's triggers that name tenants would break. SQLite >= 3.35 drops a column.
    op.execute('ALTER TABLE tenants DROP COLUMN webhooks_version')

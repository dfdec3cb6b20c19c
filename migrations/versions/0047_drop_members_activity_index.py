"""members: drop ix_members_tenant_last_activity_at; no query reads by last_activity_at since the daily stats count
active members from member_visit_counts (0046), and the bots' activity writes need not update it

Revision ID: 0047_drop_members_activity_index
Revises: 0046_member_visit_counts
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0047_drop_members_activity_index'
down_revision = '0046_member_visit_counts'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_members_tenant_last_activity_at', table_name='members')


def downgrade():
    op.create_index('ix_members_tenant_last_activity_at', 'members', ['tenant_id', 'last_activity_at'])

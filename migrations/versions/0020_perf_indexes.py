"""perf: per-tenant indexes (today's board by day, activity, live subscriptions), legacy unstamped XP zeroed

Revision ID: 0020_perf_indexes
Revises: 0008_backup_runs
"""
from alembic import op

revision = '0020_perf_indexes'
down_revision = '0008_backup_runs'
branch_labels = None
depends_on = None


def upgrade():
    # xp_today counts only on xp_today_day (the daily reset no longer zeroes it): today's board reads the
    # tenant's entries of one day, best first. A counter without its day predates 0003 and is stale.
    op.execute("UPDATE members SET xp_today = 0 WHERE xp_today_day IS NULL AND xp_today <> 0")
    op.drop_index('ix_members_tenant_xp_today', table_name='members')
    op.create_index('ix_members_tenant_xp_today_day', 'members', ['tenant_id', 'xp_today_day', 'xp_today', 'id'])
    # Daily stats count a tenant's members active in a day.
    op.create_index('ix_members_tenant_last_activity_at', 'members', ['tenant_id', 'last_activity_at'])
    # The overview's live-subscription count and the expiry job are per tenant.
    op.drop_index('ix_subscriptions_status_ends_at', table_name='subscriptions')
    op.create_index('ix_subscriptions_tenant_status_ends_at', 'subscriptions', ['tenant_id', 'status', 'ends_at'])


def downgrade():
    op.drop_index('ix_subscriptions_tenant_status_ends_at', table_name='subscriptions')
    op.create_index('ix_subscriptions_status_ends_at', 'subscriptions', ['status', 'ends_at'])
    op.drop_index('ix_members_tenant_last_activity_at', table_name='members')
    op.drop_index('ix_members_tenant_xp_today_day', table_name='members')
    op.create_index('ix_members_tenant_xp_today', 'members', ['tenant_id', 'xp_today', 'id'])

"""VPN panels: panels per tenant, plan → panel mapping, each subscription's panel user

Revision ID: 0019_panels
Revises: 0003_member_xp_today_day
"""
from alembic import op
import sqlalchemy as sa

revision = '0019_panels'
down_revision = '0003_member_xp_today_day'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'panels',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('base_url', sa.String(500), nullable=False),
        sa.Column('credentials_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('subscription_base_url', sa.String(500), nullable=True),
        sa.Column('on_cancel', sa.String(10), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_check_error', sa.String(500), nullable=True),
        sa.Column('drift', sa.JSON(), nullable=False),
        sa.Column('last_usage_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('marzban', 'pasarguard', 'remnawave', 'xui')", name=op.f('ck_panels_panel_kind')),
        sa.CheckConstraint("on_cancel IN ('delete', 'disable')", name=op.f('ck_panels_panel_on_cancel')),
        sa.UniqueConstraint('tenant_id', 'name', name='uq_panels_tenant_name'),
    )
    op.create_index('ix_panels_tenant_id', 'panels', ['tenant_id'])
    op.create_table(
        'plan_panels',
        sa.Column('plan_id', sa.Integer(), sa.ForeignKey('plans.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('panel_id', sa.Integer(), sa.ForeignKey('panels.id', ondelete='CASCADE'), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
    )
    op.create_index('ix_plan_panels_tenant_id', 'plan_panels', ['tenant_id'])
    op.create_index('ix_plan_panels_panel_id', 'plan_panels', ['panel_id'])
    op.create_table(
        'panel_users',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('tenant_id', sa.Integer(), sa.ForeignKey('tenants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('subscription_id', sa.Integer(), sa.ForeignKey('subscriptions.id', ondelete='CASCADE'),
                  nullable=False, unique=True),
        sa.Column('panel_id', sa.Integer(), sa.ForeignKey('panels.id', ondelete='CASCADE'), nullable=False),
        sa.Column('username', sa.String(64), nullable=False),
        sa.Column('remote_id', sa.String(64), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('subscription_url', sa.String(1000), nullable=True),
        sa.Column('config_links', sa.JSON(), nullable=False),
        sa.Column('used_bytes', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(500), nullable=True),
        sa.Column('preparing_told_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ready_told_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'disabled', 'deleted', 'failed')",
                           name=op.f('ck_panel_users_panel_user_status')),
        sa.UniqueConstraint('panel_id', 'username', name='uq_panel_users_panel_username'),
    )
    op.create_index('ix_panel_users_tenant_id', 'panel_users', ['tenant_id'])
    op.create_index('ix_panel_users_panel_id', 'panel_users', ['panel_id'])


def downgrade():
    op.drop_table('panel_users')
    op.drop_table('plan_panels')
    op.drop_table('panels')

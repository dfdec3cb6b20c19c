"""chart figures: buyers per day in daily_stats; subscriptions by (tenant, created_at) for the top-plans chart

Revision ID: 0041_chart_figures
Revises: 0040_bot_session_blocked
"""
from alembic import op
import sqlalchemy as sa


revision = '0041_chart_figures'
down_revision = '0040_bot_session_blocked'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('daily_stats') as batch:
        batch.add_column(sa.Column('new_buyers', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('returning_buyers', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_subscriptions_tenant_created', 'subscriptions', ['tenant_id', 'created_at'])


def downgrade():
    op.drop_index('ix_subscriptions_tenant_created', table_name='subscriptions')
    with op.batch_alter_table('daily_stats') as batch:
        batch.drop_column('returning_buyers')
        batch.drop_column('new_buyers')

"""paid chats (channels/groups a plan grants), chat grants, observed presence, Stars payments and prices

Revision ID: 0037_paid_chats
Revises: 0036_account_sessions
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0037_paid_chats'
down_revision = '0036_account_sessions'
branch_labels = None
depends_on = None

SOURCES = 'source IN (%s)'


def upgrade():
    op.create_table('paid_chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('can_invite', sa.Boolean(), nullable=False),
    sa.Column('can_restrict', sa.Boolean(), nullable=False),
    sa.Column('rights_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_fixes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_paid_chats_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_paid_chats_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paid_chats')),
    sa.UniqueConstraint('tenant_id', 'chat_id', name='uq_paid_chats_tenant_chat')
    )
    with op.batch_alter_table('paid_chats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paid_chats_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paid_chats_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('chat_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('paid_chat_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('invite_link', sa.String(length=255), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('invited', 'joined', 'removing', 'removed')", name=op.f('ck_chat_grants_chat_grant_state')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_chat_grants_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['paid_chat_id'], ['paid_chats.id'], name=op.f('fk_chat_grants_paid_chat_id_paid_chats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_chat_grants_subscription_id_subscriptions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_chat_grants_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_grants')),
    sa.UniqueConstraint('member_id', 'paid_chat_id', name='uq_chat_grants_member_chat')
    )
    with op.batch_alter_table('chat_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_grants_invite_link'), ['invite_link'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_grants_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_grants_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index('ix_chat_grants_tenant_chat_state', ['tenant_id', 'paid_chat_id', 'state'], unique=False)

    op.create_table('chat_presences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('paid_chat_id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('via_link', sa.String(length=255), nullable=True),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['paid_chat_id'], ['paid_chats.id'], name=op.f('fk_chat_presences_paid_chat_id_paid_chats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_chat_presences_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_presences')),
    sa.UniqueConstraint('paid_chat_id', 'telegram_id', name='uq_chat_presences_chat_user')
    )
    with op.batch_alter_table('chat_presences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_presences_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('plan_chats',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('paid_chat_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['paid_chat_id'], ['paid_chats.id'], name=op.f('fk_plan_chats_paid_chat_id_paid_chats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_chats_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'paid_chat_id', name=op.f('pk_plan_chats'))
    )
    with op.batch_alter_table('plan_chats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_chats_paid_chat_id'), ['paid_chat_id'], unique=False)

    op.create_table('star_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('telegram_payment_charge_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('is_renewal', sa.Boolean(), nullable=False),
    sa.Column('is_recurring', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('paid', 'refunding', 'refunded')", name=op.f('ck_star_payments_star_payment_status')),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_star_payments_bot_id_bots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_star_payments_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_star_payments_plan_id_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_star_payments_subscription_id_subscriptions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_star_payments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_star_payments')),
    sa.UniqueConstraint('telegram_payment_charge_id', name=op.f('uq_star_payments_telegram_payment_charge_id'))
    )
    with op.batch_alter_table('star_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_star_payments_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_star_payments_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index('ix_star_payments_tenant_created', ['tenant_id', 'created_at'], unique=False)

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stars_price', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_plans_stars_price_positive'),
                                         'stars_price IS NULL OR stars_price > 0')

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stars_recurring', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(op.f('ck_subscriptions_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_subscriptions_source'), SOURCES % "'balance', 'receipt', 'promocode', 'grant', 'stars'")



def downgrade():
    op.execute("DELETE FROM subscriptions WHERE source = 'stars'")
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_subscriptions_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_subscriptions_source'), SOURCES % "'balance', 'receipt', 'promocode', 'grant'")
        batch_op.drop_column('stars_recurring')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_plans_stars_price_positive'), type_='check')
        batch_op.drop_column('stars_price')

    with op.batch_alter_table('star_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_star_payments_tenant_created')
        batch_op.drop_index(batch_op.f('ix_star_payments_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_star_payments_member_id'))

    op.drop_table('star_payments')
    with op.batch_alter_table('plan_chats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_chats_paid_chat_id'))

    op.drop_table('plan_chats')
    with op.batch_alter_table('chat_presences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_presences_tenant_id'))

    op.drop_table('chat_presences')
    with op.batch_alter_table('chat_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_grants_tenant_chat_state')
        batch_op.drop_index(batch_op.f('ix_chat_grants_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_chat_grants_member_id'))
        batch_op.drop_index(batch_op.f('ix_chat_grants_invite_link'))

    op.drop_table('chat_grants')
    with op.batch_alter_table('paid_chats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paid_chats_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_paid_chats_bot_id'))

    op.drop_table('paid_chats')

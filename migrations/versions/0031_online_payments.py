"""online_payments (Zarinpal) and tenants.zarinpal_merchant_encrypted

Revision ID: 0031_online_payments
Revises: 0010_integration_api
"""
from alembic import op
import sqlalchemy as sa


revision = '0031_online_payments'
down_revision = '0010_integration_api'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('online_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('bot_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=False),
    sa.Column('order_code', sa.String(length=16), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('ref_id', sa.String(length=32), nullable=True),
    sa.Column('card_pan', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failure_code', sa.Integer(), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('verified_by', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('topup', 'plan', 'wallet')", name=op.f('ck_online_payments_purpose')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'failed')", name=op.f('ck_online_payments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_online_payments_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_online_payments_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_online_payments_bot_id_bots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_online_payments_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_online_payments_plan_id_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_online_payments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_payments')),
    sa.UniqueConstraint('authority', name=op.f('uq_online_payments_authority')),
    sa.UniqueConstraint('order_code', name=op.f('uq_online_payments_order_code')),
    sa.UniqueConstraint('ref_id', name=op.f('uq_online_payments_ref_id'))
    )
    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_payments_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_online_payments_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_online_payments_tenant_created', ['tenant_id', 'created_at'], unique=False)

    # Plain ALTER TABLE (see 0003): a batch rebuild of tenants is not needed for a nullable column.
    op.add_column('tenants', sa.Column('zarinpal_merchant_encrypted', sa.LargeBinary(), nullable=True))



def downgrade():
    op.drop_column('tenants', 'zarinpal_merchant_encrypted')

    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_online_payments_tenant_created')
        batch_op.drop_index('ix_online_payments_status_created')
        batch_op.drop_index(batch_op.f('ix_online_payments_member_id'))

    op.drop_table('online_payments')

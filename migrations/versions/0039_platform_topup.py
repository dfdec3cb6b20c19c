"""platform_cards, platform_receipts: tenants top up their wallet by card-to-card to the platform's cards

Revision ID: 0039_platform_topup
Revises: 0038_account_numbers
"""
from alembic import op
import sqlalchemy as sa


revision = '0039_platform_topup'
down_revision = '0038_account_numbers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('platform_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=16), nullable=False),
    sa.Column('holder_name', sa.String(length=120), nullable=False),
    sa.Column('bank_name', sa.String(length=80), nullable=False),
    sa.Column('account_number', sa.String(length=34), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_cards')),
    sa.UniqueConstraint('card_number', name=op.f('uq_platform_cards_card_number'))
    )
    op.create_table('platform_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('photo_path', sa.String(length=256), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=True),
    sa.Column('submitted_by_account_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_account_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending_review', 'approved', 'rejected', 'cancelled')", name=op.f('ck_platform_receipts_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_platform_receipts_amount_positive')),
    sa.ForeignKeyConstraint(['card_id'], ['platform_cards.id'], name=op.f('fk_platform_receipts_card_id_platform_cards'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_account_id'], ['accounts.id'], name=op.f('fk_platform_receipts_reviewed_by_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_account_id'], ['accounts.id'], name=op.f('fk_platform_receipts_submitted_by_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_platform_receipts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_receipts')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_platform_receipts_tracking_code'))
    )
    with op.batch_alter_table('platform_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_platform_receipts_status_submitted', ['status', 'submitted_at'], unique=False)
        batch_op.create_index('ix_platform_receipts_tenant_id', ['tenant_id', 'id'], unique=False)
        batch_op.create_index('uq_platform_receipts_one_pending_per_tenant', ['tenant_id'], unique=True,
                              postgresql_where=sa.text("status = 'pending_review'"),
                              sqlite_where=sa.text("status = 'pending_review'"))


def downgrade():
    with op.batch_alter_table('platform_receipts', schema=None) as batch_op:
        batch_op.drop_index('uq_platform_receipts_one_pending_per_tenant')
        batch_op.drop_index('ix_platform_receipts_tenant_id')
        batch_op.drop_index('ix_platform_receipts_status_submitted')
    op.drop_table('platform_receipts')
    op.drop_table('platform_cards')

"""bank_messages: deposit SMS, parsed and matched to card-to-card invoices

Revision ID: 0034_bank_messages
Revises: 0033_support_role
"""
from alembic import op
import sqlalchemy as sa


revision = '0034_bank_messages'
down_revision = '0033_support_role'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('bank', sa.String(length=20), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('tail', sa.String(length=4), nullable=True),
    sa.Column('deposited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('approved', 'suggested', 'unmatched', 'refused')", name=op.f('ck_bank_messages_status')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_bank_messages_receipt_id_receipts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bank_messages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_messages')),
    sa.UniqueConstraint('tenant_id', 'digest', name='uq_bank_messages_tenant_digest')
    )
    with op.batch_alter_table('bank_messages', schema=None) as batch_op:
        batch_op.create_index('ix_bank_messages_tenant_status_id', ['tenant_id', 'status', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('bank_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_messages_tenant_status_id')

    op.drop_table('bank_messages')

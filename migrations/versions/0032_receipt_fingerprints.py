"""receipt_fingerprints: image and reference fingerprints of receipts, to flag reused ones

Revision ID: 0032_receipt_fingerprints
Revises: 0009_tickets
"""
from alembic import op
import sqlalchemy as sa


revision = '0032_receipt_fingerprints'
down_revision = '0009_tickets'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt_fingerprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('file_unique_id', sa.String(length=128), nullable=True),
    sa.Column('phash', sa.String(length=16), nullable=True),
    sa.Column('thumbnail', sa.LargeBinary(), nullable=True),
    sa.Column('reference', sa.String(length=20), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_reason', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['receipts.id'], name=op.f('fk_receipt_fingerprints_duplicate_of_id_receipts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_fingerprints_receipt_id_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_receipt_fingerprints_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_fingerprints')),
    sa.UniqueConstraint('receipt_id', name=op.f('uq_receipt_fingerprints_receipt_id'))
    )
    with op.batch_alter_table('receipt_fingerprints', schema=None) as batch_op:
        batch_op.create_index('ix_receipt_fingerprints_tenant_file', ['tenant_id', 'file_unique_id'], unique=False)
        batch_op.create_index('ix_receipt_fingerprints_tenant_id_id', ['tenant_id', 'id'], unique=False)
        batch_op.create_index('ix_receipt_fingerprints_tenant_reference', ['tenant_id', 'reference'], unique=False)



def downgrade():
    with op.batch_alter_table('receipt_fingerprints', schema=None) as batch_op:
        batch_op.drop_index('ix_receipt_fingerprints_tenant_reference')
        batch_op.drop_index('ix_receipt_fingerprints_tenant_id_id')
        batch_op.drop_index('ix_receipt_fingerprints_tenant_file')

    op.drop_table('receipt_fingerprints')

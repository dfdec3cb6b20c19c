"""account numbers for bank SMS: payment_cards.account_number, bank_messages.tail_kind

Revision ID: 0038_account_numbers
Revises: 0037_paid_chats
"""
from alembic import op
import sqlalchemy as sa


revision = '0038_account_numbers'
down_revision = '0037_paid_chats'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_number', sa.String(length=34), nullable=True))
    with op.batch_alter_table('bank_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tail_kind', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('bank_messages', schema=None) as batch_op:
        batch_op.drop_column('tail_kind')
    with op.batch_alter_table('payment_cards', schema=None) as batch_op:
        batch_op.drop_column('account_number')

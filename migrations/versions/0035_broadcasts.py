"""broadcasts: bots, segment, per-language texts, photo, button, pause; one delivery row per recipient

Revision ID: 0035_broadcasts
Revises: 0034_bank_messages
"""
from alembic import op
import sqlalchemy as sa


revision = '0035_broadcasts'
down_revision = '0034_bank_messages'
branch_labels = None
depends_on = None

STATUSES = ("draft", "sending", "paused", "done", "cancelled")


def _statuses(batch, statuses) -> None:
    batch.drop_constraint(op.f("ck_broadcasts_status"), type_="check")
    batch.create_check_constraint(op.f("ck_broadcasts_status"),
                                  "status IN (%s)" % ", ".join(f"'{s}'" for s in statuses))


def upgrade():
    with op.batch_alter_table('broadcasts') as batch:
        batch.add_column(sa.Column('bot_ids', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('segment', sa.JSON(), server_default='{}', nullable=False))
        batch.add_column(sa.Column('texts', sa.JSON(), server_default='{}', nullable=False))
        batch.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('photo_file_ids', sa.JSON(), server_default='{}', nullable=False))
        batch.add_column(sa.Column('button_text', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('button_url', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('blocked_count', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('cursor_member_id', sa.BigInteger(), server_default='0', nullable=False))
        batch.add_column(sa.Column('fanned_out', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))
        _statuses(batch, STATUSES)
    op.create_table('broadcast_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'blocked', 'held', 'cancelled')",
                       name=op.f('ck_broadcast_deliveries_status')),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_broadcast_deliveries_bot_id_bots'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'],
                            name=op.f('fk_broadcast_deliveries_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_broadcast_deliveries_member_id_members'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_broadcast_deliveries_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_deliveries')),
    sa.UniqueConstraint('broadcast_id', 'member_id', name=op.f('uq_broadcast_deliveries_broadcast_id_member_id')),
    )
    with op.batch_alter_table('broadcast_deliveries') as batch:
        batch.create_index('ix_broadcast_deliveries_broadcast_status', ['broadcast_id', 'status'], unique=False)
        batch.create_index('ix_broadcast_deliveries_broadcast_sent_at', ['broadcast_id', 'sent_at'], unique=False)
        batch.create_index(batch.f('ix_broadcast_deliveries_member_id'), ['member_id'], unique=False)
        batch.create_index(batch.f('ix_broadcast_deliveries_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('broadcast_deliveries')
    op.execute("UPDATE broadcasts SET status = 'sending' WHERE status = 'paused'")
    with op.batch_alter_table('broadcasts') as batch:
        _statuses(batch, ("draft", "sending", "done", "cancelled"))
        for column in ('generation', 'fanned_out', 'cursor_member_id', 'blocked_count', 'button_url', 'button_text',
                       'photo_file_ids', 'photo', 'texts', 'segment', 'bot_ids'):
            batch.drop_column(column)

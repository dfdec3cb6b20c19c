"""bot_sessions.blocked_at: when the member blocked the bot (Telegram's 403, or my_chat_member kicked); cleared
when they write to it again

Revision ID: 0040_bot_session_blocked
Revises: 0039_platform_topup
"""
import sqlalchemy as sa
from alembic import op

revision = '0040_bot_session_blocked'
down_revision = '0039_platform_topup'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('bot_sessions', sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('bot_sessions') as batch:
        batch.drop_column('blocked_at')

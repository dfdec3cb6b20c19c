"""accounts: a session version (signing out or changing the password ends every other session) and the address
of the last sign-in; login_attempts goes (sign-in throttling moved to Flask-Limiter's storage)

Revision ID: 0036_account_sessions
Revises: 0035_broadcasts
"""
import sqlalchemy as sa
from alembic import op

revision = '0036_account_sessions'
down_revision = '0035_broadcasts'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not batch mode: SQLite's table rebuild would lose the expression index on lower(email).
    op.add_column('accounts', sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('accounts', sa.Column('last_login_address', sa.String(length=64), nullable=True))
    with op.batch_alter_table('login_attempts') as batch:
        batch.drop_index('ix_login_attempts_email_ip_at')
    op.drop_table('login_attempts')


def downgrade():
    op.create_table('login_attempts',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('email', sa.String(length=254), nullable=False),
                    sa.Column('ip_address', sa.String(length=64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')))
    with op.batch_alter_table('login_attempts') as batch:
        batch.create_index('ix_login_attempts_email_ip_at', ['email', 'ip_address', 'created_at'], unique=False)
    op.drop_column('accounts', 'last_login_address')
    op.drop_column('accounts', 'session_version')

"""members.xp_today_day: the day xp_today counts, so the daily reset spares XP of the new day

Revision ID: 0003_member_xp_today_day
Revises: 0002_dashboard_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_member_xp_today_day'
down_revision = '0002_dashboard_indexes'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch rebuild of members would drop the
# hand-written expression indexes of 0002, which SQLite reflection cannot see.
def upgrade():
    op.add_column('members', sa.Column('xp_today_day', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('members', 'xp_today_day')

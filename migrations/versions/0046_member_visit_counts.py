"""member_visit_counts: members per (tenant, local day of their first visit that day), kept by triggers on
members, so the daily stats' active members are a sum of a few rows, not a count of the day's members

Revision ID: 0046_member_visit_counts
Revises: 0045_subscription_status_counts
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0046_member_visit_counts'
down_revision = '0045_subscription_status_counts'
branch_labels = None
depends_on = None

COLUMNS = "tenant_id, day, members, fresh"
#: The member's visit moved to another day (record_visit's first visit of a day).
NEW_DAY = "NEW.last_visit_day IS NOT NULL AND NEW.last_visit_day IS DISTINCT FROM OLD.last_visit_day"


def _grouped(src: str, fresh: str) -> str:
    return (f"INSERT INTO member_visit_counts ({COLUMNS}) SELECT r.tenant_id, r.last_visit_day, count(*), {fresh} "
            f"FROM {src} r WHERE r.last_visit_day IS NOT NULL GROUP BY r.tenant_id, r.last_visit_day")


def _new_row(fresh: str) -> str:
    return f"INSERT INTO member_visit_counts ({COLUMNS}) VALUES (NEW.tenant_id, NEW.last_visit_day, 1, {fresh})"


PG_FUNCTIONS = f"""
CREATE FUNCTION member_visit_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('new_rows', 'true')};
  RETURN NULL;
END $$;
CREATE FUNCTION member_visit_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_new_row('true')};
  RETURN NULL;
END $$;
CREATE TRIGGER members_visit_counts_inserted AFTER INSERT ON members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION member_visit_counts_inserted();
CREATE TRIGGER members_visit_counts_updated AFTER UPDATE OF last_visit_day ON members FOR EACH ROW
  WHEN ({NEW_DAY}) EXECUTE FUNCTION member_visit_counts_updated();
"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER members_visit_counts_inserted AFTER INSERT ON members
  WHEN NEW.last_visit_day IS NOT NULL BEGIN {_new_row('1')}; END""",
    f"""CREATE TRIGGER members_visit_counts_updated AFTER UPDATE OF last_visit_day ON members
  WHEN NEW.last_visit_day IS NOT NULL AND NEW.last_visit_day IS NOT OLD.last_visit_day BEGIN {_new_row('1')}; END""",
)


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('member_visit_counts',
    sa.Column('id', big_id, nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('members', sa.BigInteger(), nullable=False),
    sa.Column('fresh', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_member_visit_counts_key', 'member_visit_counts', ['tenant_id', 'day'], unique=False,
                    postgresql_include=['members'])
    op.create_index('ix_member_visit_counts_fresh', 'member_visit_counts', ['tenant_id'], unique=False,
                    postgresql_where=sa.text('fresh'), sqlite_where=sa.text('fresh'))
    # Backfill: members per last_visit_day, already folded (fresh = false). Earlier days' visits of members
    # seen again since are not recorded anywhere: those days count only the members whose last visit they are.
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.execute(_grouped('members', 'false' if postgres else '0'))
    if postgres:
        op.execute(PG_FUNCTIONS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('inserted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS members_visit_counts_{name} ON members')
            op.execute(f'DROP FUNCTION IF EXISTS member_visit_counts_{name}()')
    else:
        for name in ('inserted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS members_visit_counts_{name}')
    op.drop_index('ix_member_visit_counts_fresh', table_name='member_visit_counts')
    op.drop_index('ix_member_visit_counts_key', table_name='member_visit_counts')
    op.drop_table('member_visit_counts')

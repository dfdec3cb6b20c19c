"""member_xp_counts: members per XP total (three levels), kept by triggers on members, for an exact rank in O(1)-ish

Revision ID: 0042_member_xp_counts
Revises: 0041_chart_figures
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0042_member_xp_counts'
down_revision = '0041_chart_figures'
branch_labels = None
depends_on = None

#: The three keys of one member (see app.models.members.MemberXpCount), as SQL over a row alias `r`.
KEYS = ("SELECT r.tenant_id, 2 AS level, r.total_xp >> 8 AS total_xp, 0 AS id_block FROM {src} r",
        "SELECT r.tenant_id, 1, r.total_xp, 0 FROM {src} r",
        "SELECT r.tenant_id, 0, r.total_xp, r.id >> 10 FROM {src} r")
COLUMNS = "tenant_id, level, total_xp, id_block, members, fresh"


def _grouped(src: str, sign: str, fresh: str, where: str = "") -> str:
    union = " UNION ALL ".join(k.format(src=src) + where for k in KEYS)
    return (f"INSERT INTO member_xp_counts ({COLUMNS}) SELECT tenant_id, level, total_xp, id_block, "
            f"{sign}count(*), {fresh} FROM ({union}) k GROUP BY tenant_id, level, total_xp, id_block")


def _row_values(row: str, sign: str, fresh: str) -> str:
    return ", ".join(f"({row}.tenant_id, {lvl}, {xp}, {blk}, {sign}1, {fresh})" for lvl, xp, blk in (
        (2, f"{row}.total_xp >> 8", "0"), (1, f"{row}.total_xp", "0"), (0, f"{row}.total_xp", f"{row}.id >> 10")))


PG_FUNCTIONS = f"""
CREATE FUNCTION member_xp_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('new_rows', '', 'true')};
  RETURN NULL;
END $$;
CREATE FUNCTION member_xp_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- a tenant being deleted takes its counts with it (ON DELETE CASCADE): nothing to write then
  {_grouped('old_rows', '-', 'true', ' WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = r.tenant_id)')};
  RETURN NULL;
END $$;
CREATE FUNCTION member_xp_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO member_xp_counts ({COLUMNS}) VALUES {_row_values('OLD', '-', 'true')}, {_row_values('NEW', '', 'true')};
  RETURN NULL;
END $$;
CREATE TRIGGER members_xp_counts_inserted AFTER INSERT ON members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION member_xp_counts_inserted();
CREATE TRIGGER members_xp_counts_deleted AFTER DELETE ON members REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION member_xp_counts_deleted();
CREATE TRIGGER members_xp_counts_updated AFTER UPDATE OF total_xp, tenant_id, id ON members FOR EACH ROW
  WHEN (OLD.total_xp IS DISTINCT FROM NEW.total_xp OR OLD.tenant_id <> NEW.tenant_id OR OLD.id <> NEW.id)
  EXECUTE FUNCTION member_xp_counts_updated();
"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER members_xp_counts_inserted AFTER INSERT ON members BEGIN
  INSERT INTO member_xp_counts ({COLUMNS}) VALUES {_row_values('NEW', '', '1')}; END""",
    f"""CREATE TRIGGER members_xp_counts_deleted AFTER DELETE ON members
  WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id) BEGIN
  INSERT INTO member_xp_counts ({COLUMNS}) VALUES {_row_values('OLD', '-', '1')}; END""",
    f"""CREATE TRIGGER members_xp_counts_updated AFTER UPDATE OF total_xp, tenant_id, id ON members
  WHEN OLD.total_xp IS NOT NEW.total_xp OR OLD.tenant_id <> NEW.tenant_id OR OLD.id <> NEW.id BEGIN
  INSERT INTO member_xp_counts ({COLUMNS}) VALUES {_row_values('OLD', '-', '1')}, {_row_values('NEW', '', '1')};
  END""",
)


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('member_xp_counts',
    sa.Column('id', big_id, nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('total_xp', sa.BigInteger(), nullable=False),
    sa.Column('id_block', sa.Integer(), nullable=False),
    sa.Column('members', sa.BigInteger(), nullable=False),
    sa.Column('fresh', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_member_xp_counts_key', 'member_xp_counts', ['tenant_id', 'level', 'total_xp', 'id_block'],
                    unique=False, postgresql_include=['members'])
    op.create_index('ix_member_xp_counts_fresh', 'member_xp_counts', ['tenant_id'], unique=False,
                    postgresql_where=sa.text('fresh'), sqlite_where=sa.text('fresh'))
    # Backfill: one grouped INSERT over every member, already folded (fresh = false).
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.execute(_grouped('members', '', 'false' if postgres else '0'))
    if postgres:
        op.execute(PG_FUNCTIONS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS members_xp_counts_{name} ON members')
            op.execute(f'DROP FUNCTION IF EXISTS member_xp_counts_{name}()')
    else:
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS members_xp_counts_{name}')
    op.drop_index('ix_member_xp_counts_fresh', table_name='member_xp_counts')
    op.drop_index('ix_member_xp_counts_key', table_name='member_xp_counts')
    op.drop_table('member_xp_counts')

"""plan_sale_counts: subscriptions sold per plan, source and 15-minute slot, kept by triggers on subscriptions,
so the top-plans chart sums a few thousand rows instead of counting 30 days of subscriptions

Revision ID: 0043_plan_sale_counts
Revises: 0042_member_xp_counts
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0043_plan_sale_counts'
down_revision = '0042_member_xp_counts'
branch_labels = None
depends_on = None

COLUMNS = "tenant_id, plan_id, source, slot, sold, fresh"
#: The 15-minute UTC slot of a row's created_at (app.models.catalog.SLOT_SECONDS), per dialect.
PG_SLOT = "floor(extract(epoch FROM {r}.created_at) / 900)::integer"
#: SQLite: the seconds cut off first (strftime rounds 59.9995 s up into the next second, maybe the next slot).
SQLITE_SLOT = "CAST(strftime('%s', substr({r}.created_at, 1, 19)) AS INTEGER) / 900"


def _grouped(src: str, sign: str, fresh: str, slot: str = PG_SLOT, where: str = "") -> str:
    slot = slot.format(r="r")
    return (f"INSERT INTO plan_sale_counts ({COLUMNS}) SELECT r.tenant_id, r.plan_id, r.source, {slot}, "
            f"{sign}count(*), {fresh} FROM {src} r{where} GROUP BY r.tenant_id, r.plan_id, r.source, {slot}")


def _row_values(row: str, sign: str, slot: str, fresh: str) -> str:
    return f"({row}.tenant_id, {row}.plan_id, {row}.source, {slot.format(r=row)}, {sign}1, {fresh})"


#: A tenant being deleted takes its counts with it (ON DELETE CASCADE): nothing to write then.
TENANT_LIVES = "EXISTS (SELECT 1 FROM tenants t WHERE t.id = {r}.tenant_id)"
#: Which changes move a sale to another key.
KEY_CHANGED = ("OLD.tenant_id <> NEW.tenant_id OR OLD.plan_id <> NEW.plan_id OR OLD.source <> NEW.source "
               "OR OLD.created_at <> NEW.created_at")

PG_FUNCTIONS = f"""
CREATE FUNCTION plan_sale_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('new_rows', '', 'true')};
  RETURN NULL;
END $$;
CREATE FUNCTION plan_sale_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('old_rows', '-', 'true', where=' WHERE ' + TENANT_LIVES.format(r='r'))};
  RETURN NULL;
END $$;
CREATE FUNCTION plan_sale_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plan_sale_counts ({COLUMNS})
  VALUES {_row_values('OLD', '-', PG_SLOT, 'true')}, {_row_values('NEW', '', PG_SLOT, 'true')};
  RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_sale_counts_inserted AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION plan_sale_counts_inserted();
CREATE TRIGGER subscriptions_sale_counts_deleted AFTER DELETE ON subscriptions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION plan_sale_counts_deleted();
CREATE TRIGGER subscriptions_sale_counts_updated AFTER UPDATE OF tenant_id, plan_id, source, created_at
  ON subscriptions FOR EACH ROW WHEN ({KEY_CHANGED})
  EXECUTE FUNCTION plan_sale_counts_updated();
"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER subscriptions_sale_counts_inserted AFTER INSERT ON subscriptions BEGIN
  INSERT INTO plan_sale_counts ({COLUMNS}) VALUES {_row_values('NEW', '', SQLITE_SLOT, '1')}; END""",
    f"""CREATE TRIGGER subscriptions_sale_counts_deleted AFTER DELETE ON subscriptions
  WHEN {TENANT_LIVES.format(r='OLD')} BEGIN
  INSERT INTO plan_sale_counts ({COLUMNS}) VALUES {_row_values('OLD', '-', SQLITE_SLOT, '1')}; END""",
    f"""CREATE TRIGGER subscriptions_sale_counts_updated AFTER UPDATE OF tenant_id, plan_id, source, created_at
  ON subscriptions WHEN {KEY_CHANGED} BEGIN
  INSERT INTO plan_sale_counts ({COLUMNS})
  VALUES {_row_values('OLD', '-', SQLITE_SLOT, '1')}, {_row_values('NEW', '', SQLITE_SLOT, '1')}; END""",
)


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('plan_sale_counts',
    sa.Column('id', big_id, nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('sold', sa.BigInteger(), nullable=False),
    sa.Column('fresh', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_plan_sale_counts_key', 'plan_sale_counts', ['tenant_id', 'slot', 'plan_id', 'source'],
                    unique=False, postgresql_include=['sold'])
    op.create_index('ix_plan_sale_counts_fresh', 'plan_sale_counts', ['tenant_id'], unique=False,
                    postgresql_where=sa.text('fresh'), sqlite_where=sa.text('fresh'))
    op.create_index('ix_plan_sale_counts_plan_id', 'plan_sale_counts', ['plan_id'], unique=False)
    # Backfill: one grouped INSERT over every subscription, already folded (fresh = false).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_grouped('subscriptions', '', 'false'))
        op.execute(PG_FUNCTIONS)
    else:
        op.execute(_grouped('subscriptions', '', '0', SQLITE_SLOT))
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS subscriptions_sale_counts_{name} ON subscriptions')
            op.execute(f'DROP FUNCTION IF EXISTS plan_sale_counts_{name}()')
    else:
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS subscriptions_sale_counts_{name}')
    op.drop_index('ix_plan_sale_counts_plan_id', table_name='plan_sale_counts')
    op.drop_index('ix_plan_sale_counts_fresh', table_name='plan_sale_counts')
    op.drop_index('ix_plan_sale_counts_key', table_name='plan_sale_counts')
    op.drop_table('plan_sale_counts')

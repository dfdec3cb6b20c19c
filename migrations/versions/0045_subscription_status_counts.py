"""subscription_status_counts: subscriptions per (tenant, status), kept by triggers on subscriptions, so the
overview's live-subscriptions figure is the active total minus the few past their end not yet expired

Revision ID: 0045_subscription_status_counts
Revises: 0044_ledger_purchases_index
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0045_subscription_status_counts'
down_revision = '0044_ledger_purchases_index'
branch_labels = None
depends_on = None

COLUMNS = "tenant_id, status, subscriptions, fresh"
#: A tenant being deleted takes its counts with it (ON DELETE CASCADE): nothing to write then.
TENANT_LIVES = "EXISTS (SELECT 1 FROM tenants t WHERE t.id = {r}.tenant_id)"
KEY_CHANGED = "OLD.tenant_id <> NEW.tenant_id OR OLD.status <> NEW.status"


def _grouped(src: str, sign: str, fresh: str, where: str = "") -> str:
    return (f"INSERT INTO subscription_status_counts ({COLUMNS}) SELECT r.tenant_id, r.status, {sign}count(*), "
            f"{fresh} FROM {src} r{where} GROUP BY r.tenant_id, r.status")


def _row_values(row: str, sign: str, fresh: str) -> str:
    return f"({row}.tenant_id, {row}.status, {sign}1, {fresh})"


PG_FUNCTIONS = f"""
CREATE FUNCTION subscription_status_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('new_rows', '', 'true')};
  RETURN NULL;
END $$;
CREATE FUNCTION subscription_status_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_grouped('old_rows', '-', 'true', ' WHERE ' + TENANT_LIVES.format(r='r'))};
  RETURN NULL;
END $$;
CREATE FUNCTION subscription_status_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subscription_status_counts ({COLUMNS})
  VALUES {_row_values('OLD', '-', 'true')}, {_row_values('NEW', '', 'true')};
  RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_status_counts_inserted AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION subscription_status_counts_inserted();
CREATE TRIGGER subscriptions_status_counts_deleted AFTER DELETE ON subscriptions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION subscription_status_counts_deleted();
CREATE TRIGGER subscriptions_status_counts_updated AFTER UPDATE OF tenant_id, status ON subscriptions
  FOR EACH ROW WHEN ({KEY_CHANGED}) EXECUTE FUNCTION subscription_status_counts_updated();
"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER subscriptions_status_counts_inserted AFTER INSERT ON subscriptions BEGIN
  INSERT INTO subscription_status_counts ({COLUMNS}) VALUES {_row_values('NEW', '', '1')}; END""",
    f"""CREATE TRIGGER subscriptions_status_counts_deleted AFTER DELETE ON subscriptions
  WHEN {TENANT_LIVES.format(r='OLD')} BEGIN
  INSERT INTO subscription_status_counts ({COLUMNS}) VALUES {_row_values('OLD', '-', '1')}; END""",
    f"""CREATE TRIGGER subscriptions_status_counts_updated AFTER UPDATE OF tenant_id, status ON subscriptions
  WHEN {KEY_CHANGED} BEGIN
  INSERT INTO subscription_status_counts ({COLUMNS})
  VALUES {_row_values('OLD', '-', '1')}, {_row_values('NEW', '', '1')}; END""",
)


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('subscription_status_counts',
    sa.Column('id', big_id, nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('subscriptions', sa.BigInteger(), nullable=False),
    sa.Column('fresh', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_subscription_status_counts_key', 'subscription_status_counts', ['tenant_id', 'status'],
                    unique=False, postgresql_include=['subscriptions'])
    op.create_index('ix_subscription_status_counts_fresh', 'subscription_status_counts', ['tenant_id'],
                    unique=False, postgresql_where=sa.text('fresh'), sqlite_where=sa.text('fresh'))
    # Backfill: one grouped INSERT over every subscription, already folded (fresh = false).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_grouped('subscriptions', '', 'false'))
        op.execute(PG_FUNCTIONS)
    else:
        op.execute(_grouped('subscriptions', '', '0'))
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS subscriptions_status_counts_{name} ON subscriptions')
            op.execute(f'DROP FUNCTION IF EXISTS subscription_status_counts_{name}()')
    else:
        for name in ('inserted', 'deleted', 'updated'):
            op.execute(f'DROP TRIGGER IF EXISTS subscriptions_status_counts_{name}')
    op.drop_index('ix_subscription_status_counts_fresh', table_name='subscription_status_counts')
    op.drop_index('ix_subscription_status_counts_key', table_name='subscription_status_counts')
    op.drop_table('subscription_status_counts')

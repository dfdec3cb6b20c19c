"""settings registry: move stored settings to their declared keys (data only, no schema change)

- bot_settings free_daily_quota / premium_daily_quota (saved by the old bot page, read by nothing) become the
  tenant's daily_quota_free / daily_quota_premium, unless the tenant already had its own value;
- platform_settings "wholesale" {"per_gb", "percent"} becomes wholesale_per_gb and wholesale_percent;
- whole numbers stored as text in tenants.settings become numbers.

Revision ID: 0016_settings_registry
Revises: 0020_perf_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_settings_registry'
down_revision = '0020_perf_indexes'
branch_labels = None
depends_on = None

tenants = sa.table('tenants', sa.column('id', sa.Integer), sa.column('settings', sa.JSON))
bots = sa.table('bots', sa.column('id', sa.Integer), sa.column('tenant_id', sa.Integer))
bot_settings = sa.table('bot_settings', sa.column('id', sa.Integer), sa.column('bot_id', sa.Integer),
                        sa.column('key', sa.String), sa.column('value', sa.JSON))
platform_settings = sa.table('platform_settings', sa.column('key', sa.String), sa.column('value', sa.JSON),
                             sa.column('updated_at', sa.DateTime))

BOT_QUOTA_KEYS = {'free_daily_quota': 'daily_quota_free', 'premium_daily_quota': 'daily_quota_premium'}
INT_KEYS = ('daily_quota_free', 'daily_quota_premium', 'referral_bonus_toman', 'referral_bonus_xp',
            'xp_per_10000_toman', 'xp_daily_visit')


def upgrade():
    conn = op.get_bind()
    tenant_settings = {row.id: dict(row.settings or {}) for row in conn.execute(sa.select(tenants))}
    quota_rows = conn.execute(
        sa.select(bot_settings.c.id, bot_settings.c.key, bot_settings.c.value, bots.c.tenant_id)
        .join(bots, bots.c.id == bot_settings.c.bot_id)
        .where(bot_settings.c.key.in_(BOT_QUOTA_KEYS)).order_by(bot_settings.c.id)).all()
    for row in quota_rows:
        number = _whole(row.value)
        if number is not None:
            tenant_settings[row.tenant_id].setdefault(BOT_QUOTA_KEYS[row.key], number)
    conn.execute(sa.delete(bot_settings).where(bot_settings.c.key.in_(BOT_QUOTA_KEYS)))
    for tenant_id, stored in tenant_settings.items():
        for key in INT_KEYS:
            if isinstance(stored.get(key), str) and _whole(stored[key]) is not None:
                stored[key] = _whole(stored[key])
        conn.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(settings=stored))
    _split_wholesale(conn)


def _split_wholesale(conn):
    old = conn.execute(sa.select(platform_settings.c.value).where(platform_settings.c.key == 'wholesale')).scalar()
    if old is None:
        return
    for part, key in (('per_gb', 'wholesale_per_gb'), ('percent', 'wholesale_percent')):
        number = _whole((old or {}).get(part))
        if number is not None:
            conn.execute(sa.insert(platform_settings).values(key=key, value=number, updated_at=sa.func.now()))
    conn.execute(sa.delete(platform_settings).where(platform_settings.c.key == 'wholesale'))


def _whole(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def downgrade():
    conn = op.get_bind()
    keys = ('wholesale_per_gb', 'wholesale_percent')
    rows = dict(conn.execute(sa.select(platform_settings.c.key, platform_settings.c.value)
                             .where(platform_settings.c.key.in_(keys))).all())
    if rows:
        value = {'per_gb': rows.get('wholesale_per_gb', 0), 'percent': rows.get('wholesale_percent', 0)}
        conn.execute(sa.delete(platform_settings).where(platform_settings.c.key.in_(keys)))
        conn.execute(sa.insert(platform_settings).values(key='wholesale', value=value, updated_at=sa.func.now()))

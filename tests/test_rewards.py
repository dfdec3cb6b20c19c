"""The growth hooks in the money services: XP by source, purchase badges, the referral bonus."""
import pytest

from app.models import Member
from app.services import plans, receipts, referrals, wallet
from app.services.receipts import Reviewer

ADMIN = Reviewer(telegram_id=555)


@pytest.fixture
def shop(db, make):
    tenant = make.tenant()
    tenant.settings = {"referral_bonus_toman": 25_000, "referral_bonus_xp": 10}
    wallet.topup_wallet(tenant, 5_000_000, key="seed", actor="system")
    make.card(tenant, daily_cap=50_000_000)
    plan = make.plan(tenant, price=1_000_000, period_days=30)
    referrer, member = make.member(tenant), make.member(tenant)
    referrals.set_referrer(member, referrer.referral_code)
    db.session.commit()
    return tenant, plan, referrer, member


def approved(member, bot=None, **invoice):
    receipt = receipts.submit(receipts.open_invoice(member, bot=bot, **invoice), telegram_file_id="f")
    return receipts.approve(receipt, ADMIN)


def test_plan_receipt_gives_purchase_xp_level_up_badge_and_referral_bonus(db, make, shop):
    tenant, plan, referrer, member = shop
    bot = make.bot(tenant)
    rewards = approved(member, bot=bot, plan=plan).rewards
    db.session.commit()
    assert (rewards.level_change.old_level, rewards.level_change.new_level) == (1, 2)
    assert [(b.badge_code, b.earned_in_bot_id) for b in rewards.badges] == [("first_purchase", bot.id)]
    assert (rewards.referral.referrer.id, rewards.referral.toman) == (referrer.id, 25_000)
    assert db.session.get(Member, member.id).total_xp == 100
    assert db.session.get(Member, referrer.id).balance == 25_000


def test_top_up_receipt_gives_topup_xp_and_the_referral_bonus_but_no_purchase_badge(db, shop):
    _, _, referrer, member = shop
    rewards = approved(member, amount=500_000).rewards
    assert (member.total_xp, rewards.badges) == (50, [])
    assert rewards.referral is not None
    assert approved(member, amount=500_000).rewards.referral is None


def test_tenant_can_switch_off_top_up_xp(db, shop):
    tenant, _, _, member = shop
    tenant.settings = {**tenant.settings, "xp_sources_disabled": ["topup"]}
    assert approved(member, amount=500_000).rewards.level_change is None
    assert member.total_xp == 0


def test_balance_purchase_gives_xp_and_counts_towards_five_purchases(db, make, shop):
    tenant, _, _, member = shop
    cheap = make.plan(tenant, price=10_000)
    approved(member, amount=100_000)
    codes = []
    for n in range(5):
        subscription = plans.purchase_from_balance(member, cheap, key=f"buy:{n}", actor="system")
        codes += [b.badge_code for b in subscription.rewards.badges]
    assert codes == ["first_purchase", "five_purchases"]
    assert member.total_xp == 10 + 5

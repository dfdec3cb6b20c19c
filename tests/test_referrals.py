import pytest

from app.models import Member
from app.services import badges, ledger, referrals
from app.services.errors import NotFound
from app.services.referrals import ReferralRefused


def configure(tenant, **settings):
    tenant.settings = {**(tenant.settings or {}), **settings}


def test_set_referrer_records_it_once(db, make):
    tenant = make.tenant()
    referrer, member, other = make.member(tenant), make.member(tenant), make.member(tenant)
    assert referrals.set_referrer(member, referrer.referral_code.lower()).id == referrer.id
    with pytest.raises(ReferralRefused, match="already"):
        referrals.set_referrer(member, other.referral_code)
    assert db.session.get(Member, member.id).referred_by_id == referrer.id


def test_self_referral_is_refused(db, make):
    member = make.member(make.tenant())
    with pytest.raises(ReferralRefused, match="yourself"):
        referrals.set_referrer(member, member.referral_code)


def test_loops_are_refused(db, make):
    tenant = make.tenant()
    a, b, c = (make.member(tenant) for _ in range(3))
    referrals.set_referrer(b, a.referral_code)
    referrals.set_referrer(c, b.referral_code)
    with pytest.raises(ReferralRefused, match="invited by you"):
        referrals.set_referrer(a, c.referral_code)
    assert a.referred_by_id is None


def test_unknown_or_foreign_code_is_not_found(db, make):
    member = make.member(make.tenant())
    stranger = make.member(make.tenant())
    for text in ("NOPE2345", stranger.referral_code):
        with pytest.raises(NotFound):
            referrals.set_referrer(member, text)


def test_a_member_who_already_bought_cannot_be_referred(db, make):
    tenant = make.tenant()
    member = make.member(tenant, is_newcomer=False)
    with pytest.raises(ReferralRefused, match="first purchase"):
        referrals.set_referrer(member, make.member(tenant).referral_code)


def test_bonus_is_paid_once_in_toman_and_xp(db, make):
    tenant = make.tenant()
    configure(tenant, referral_bonus_toman=30_000, referral_bonus_xp=40)
    referrer, member = make.member(tenant), make.member(tenant)
    referrals.set_referrer(member, referrer.referral_code)
    reward = referrals.on_purchase_approved(member)
    assert referrals.on_purchase_approved(member) is None
    db.session.commit()
    fresh = db.session.get(Member, referrer.id)
    assert (reward.referrer.id, reward.toman, reward.xp) == (referrer.id, 30_000, 40)
    assert (fresh.balance, fresh.total_xp) == (30_000, 40)
    assert ledger.find_entry(tenant.id, f"referral:{member.id}").amount == 30_000
    assert db.session.get(Member, member.id).referral_rewarded_at is not None


def test_default_bonus_is_xp_only(db, make):
    tenant = make.tenant()
    referrer, member = make.member(tenant), make.member(tenant)
    referrals.set_referrer(member, referrer.referral_code)
    reward = referrals.on_purchase_approved(member)
    assert (reward.toman, reward.xp, referrer.balance, referrer.total_xp) == (0, 50, 0, 50)


def test_disabled_referral_xp_source_pays_no_xp(db, make):
    tenant = make.tenant()
    configure(tenant, xp_sources_disabled=["referral"], referral_bonus_toman=1_000)
    referrer, member = make.member(tenant), make.member(tenant)
    referrals.set_referrer(member, referrer.referral_code)
    reward = referrals.on_purchase_approved(member)
    assert (reward.toman, reward.xp, referrer.total_xp) == (1_000, 0, 0)


def test_no_referrer_no_bonus(db, make):
    assert referrals.on_purchase_approved(make.member(make.tenant())) is None


def test_stats_and_the_three_referrals_badge(db, make):
    tenant = make.tenant()
    configure(tenant, referral_bonus_toman=10_000)
    referrer = make.member(tenant)
    invited = [make.member(tenant) for _ in range(4)]
    for member in invited:
        referrals.set_referrer(member, referrer.referral_code)
    for member in invited[:3]:
        referrals.on_purchase_approved(member)
    assert referrals.stats(referrer) == referrals.ReferralStats(invited=4, purchased=3, earned_toman=30_000)
    assert "three_referrals" in [b.code for b in badges.badges_of(referrer)]


def test_referral_link_uses_the_deep_link_payload(db, make):
    member = make.member(make.tenant())
    assert referrals.referral_link(member, "shop_bot") == f"https://t.me/shop_bot?start=ref_{member.referral_code}"

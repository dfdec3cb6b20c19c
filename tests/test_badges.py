import pytest
import sqlalchemy as sa

from app.models import MemberBadge
from app.services import badges, ledger, xp
from app.services.errors import NotFound, ValidationFailed


def buy(member, n):
    """Record a plan purchase the way the money services do: a ledger debit of kind `purchase`."""
    ledger.credit_member(member, 1_000, key=f"test-topup:{member.id}:{n}", kind="topup")
    ledger.debit_member(member, 1_000, key=f"test-buy:{member.id}:{n}", kind="purchase")


def codes_of(member):
    return [b.code for b in badges.badges_of(member)]


def test_catalogue_has_the_promised_badges():
    assert {"first_purchase", "five_purchases", "three_referrals", "top10_week", "streak_30"} <= set(badges.CATALOGUE)


def test_award_is_once_per_member(db, make):
    tenant = make.tenant()
    member, bot = make.member(tenant), make.bot(tenant)
    first = badges.award(member, "first_purchase", bot=bot, receipt_id=7)
    again = badges.award(member, "first_purchase")
    db.session.commit()
    assert again is None
    assert (first.earned_in_bot_id, first.metadata_) == (bot.id, {"receipt_id": 7})
    assert db.session.scalar(sa.select(sa.func.count(MemberBadge.id))) == 1


def test_award_is_one_statement_and_returns_the_whole_row(db, make):
    tenant = make.tenant()
    member, bot = make.member(tenant), make.bot(tenant)
    member.tenant.id, bot.id  # loaded, as in an approval (which holds the member's row locked)
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        badge = badges.award(member, "first_purchase", bot=bot, receipt_id=7)
        read_back = (badge.id, badge.awarded_at, badge.metadata_, badge.earned_in_bot_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("INSERT"), seen  # an approval's badge: 1 statement
    assert read_back[1] is not None and read_back[2:] == ({"receipt_id": 7}, bot.id)


def test_unknown_badge_is_refused(db, make):
    with pytest.raises(NotFound):
        badges.award(make.member(make.tenant()), "no_such_badge")


def test_first_and_fifth_purchase_badges(db, make):
    member = make.member(make.tenant())
    assert badges.check_after_purchase(member) == []
    buy(member, 1)
    assert [b.badge_code for b in badges.check_after_purchase(member)] == ["first_purchase"]
    for n in range(2, 6):
        buy(member, n)
    assert [b.badge_code for b in badges.check_after_purchase(member)] == ["five_purchases"]
    assert badges.check_after_purchase(member) == []


def test_top_up_is_not_a_purchase(db, make):
    member = make.member(make.tenant(), balance=50_000)
    assert badges.purchase_count(member) == 0


def test_owner_defined_badge_is_awarded_and_listed_with_its_title(db, make):
    tenant = make.tenant()
    member = make.member(tenant)
    badges.create_definition(tenant, "Beta_Tester", "Beta tester", icon="🧪")
    badges.award(member, "beta_tester", awarded_by="account:1")
    db.session.commit()
    [earned] = badges.badges_of(member)
    assert (earned.code, earned.title, earned.icon) == ("beta_tester", "Beta tester", "🧪")


def test_another_tenants_definition_is_not_usable(db, make):
    badges.create_definition(make.tenant(), "vip", "VIP")
    with pytest.raises(NotFound):
        badges.award(make.member(make.tenant()), "vip")


def test_disabled_definition_is_not_awarded_but_kept_by_holders(db, make):
    tenant = make.tenant()
    holder, other = make.member(tenant), make.member(tenant)
    definition = badges.create_definition(tenant, "vip", "VIP")
    badges.award(holder, "vip")
    badges.disable_definition(definition)
    with pytest.raises(NotFound):
        badges.award(other, "vip")
    assert badges.badges_of(holder)[0].title == "VIP"


@pytest.mark.parametrize("code, title", [("first_purchase", "Mine"), ("x", "Short code"), ("has space", "T"),
                                         ("fine_code", ""), ("fine_code", "t" * 81)])
def test_bad_definitions_are_refused(db, make, code, title):
    with pytest.raises(ValidationFailed):
        badges.create_definition(make.tenant(), code, title)


def test_duplicate_definition_is_refused(db, make):
    tenant = make.tenant()
    badges.create_definition(tenant, "vip", "VIP")
    with pytest.raises(ValidationFailed):
        badges.create_definition(tenant, "VIP", "VIP again")


def test_weekly_top10_goes_to_the_ten_best(db, make):
    tenant = make.tenant()
    members = [make.member(tenant) for _ in range(12)]
    for points, member in enumerate(members, start=1):
        xp.award(member, points, source="manual")
    awarded = badges.award_weekly_top10(tenant)
    assert sorted(b.member_id for b in awarded) == sorted(m.id for m in members[2:])
    assert badges.award_weekly_top10(tenant) == []
    assert codes_of(members[0]) == []

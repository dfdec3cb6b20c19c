"""Every declared setting, changed on its dashboard page, changes what the bots and the services do.

A new declaration fails `test_every_declared_setting_is_walked` until a probe here shows its effect, so a
setting saved under one key and read under another (the old free_daily_quota / daily_quota_free) cannot pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.models import BotSession, Member, Receipt
from app.services import plans, quota, receipts
from app.services.receipts import Reviewer
from app.services.settings import REGISTRY
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID, CARD
from tests.bots.harness import buttons
from tests.helpers import csrf_token, form_values

PROBES: dict[tuple[str, ...], callable] = {}


def probe(*keys):
    def register(function):
        PROBES[keys] = function
        return function
    return register


@dataclass
class World:
    db: object
    make: object
    fleet: object
    client: object
    tenant: object
    bot: object
    owner: object

    def change(self, page: str, form_id: str, action: str, **changes):
        """Open the settings page, change some fields as an owner would, submit; the page accepts it."""
        values = form_values(self.client.get(page), form_id)
        for name, value in changes.items():
            if value is False:
                values.pop(name, None)                 # an unticked checkbox is not sent
            elif isinstance(value, list):
                values.setlist(name, value)
            else:
                values[name] = "y" if value is True else value
        response = self.client.post(action, data=values)
        assert response.status_code == 302, response.get_data(as_text=True)
        self.db.session.expire_all()

    def tenant_setting(self, **changes):
        self.change("/settings/", "tenant-settings", "/settings/", **changes)

    def bot_setting(self, **changes):
        self.change(f"/bots/{self.bot.id}", "bot-settings", f"/bots/{self.bot.id}/settings", **changes)

    def platform_setting(self, **changes):
        self.change("/admin/tenants", "platform-settings", "/admin/prices", **changes)

    def user(self, **kw):
        kw.setdefault("language_code", "en")
        return self.fleet.user(self.bot, **kw)

    def member(self, user) -> Member:
        self.db.session.expire_all()
        return self.db.session.scalar(sa.select(Member).where(Member.tenant_id == self.tenant.id,
                                                             Member.telegram_id == user.id))

    def menu_buttons(self) -> list[str]:
        sara = self.user()
        sara.says("/start")
        return buttons(sara.last())

    def approved_topup(self, member, amount=100_000) -> Receipt:
        receipt = receipts.open_invoice(member, amount=amount, bot=self.bot)
        receipts.submit(receipt, text="ref 123456")
        receipts.approve(receipt, Reviewer(account=self.owner))
        self.db.session.commit()
        return receipt


@pytest.fixture
def world(db, make, fleet, client, auth):
    owner = make.account()
    owner.is_platform_admin = True
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant)
    fleet.add(bot)
    make.card(tenant, number=CARD)
    db.session.commit()
    auth.use_language("en")
    auth.login(owner.email)
    return World(db, make, fleet, client, tenant, bot, owner)


@probe("receipt_timeout_hours")
def _receipt_window(w: World):
    w.tenant_setting(receipt_timeout_hours="3")
    sara = w.user()
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")
    receipt = w.db.session.scalar(sa.select(Receipt))
    assert receipt.expires_at - receipt.created_at == timedelta(hours=3)


@probe("topup_presets")
def _topup_buttons(w: World):
    w.tenant_setting(topup_presets="۵۰۰۰۰، 70000")
    sara = w.user()
    sara.says("/start")
    sara.presses("m:topup")
    assert [b for b in buttons(sara.last()) if b.startswith("tu:")] == ["tu:50000", "tu:70000"]


@probe("referral_bonus_toman", "referral_bonus_xp")
def _referral_bonus(w: World):
    w.tenant_setting(referral_bonus_toman="7,000", referral_bonus_xp="33", xp_sources_disabled=[])
    referrer = w.make.member(w.tenant)
    friend = w.make.member(w.tenant, referred_by_id=referrer.id)
    w.approved_topup(friend)
    w.db.session.refresh(referrer)
    assert (referrer.balance, referrer.total_xp) == (7_000, 33)


@probe("xp_per_10000_toman")
def _purchase_xp(w: World):
    w.tenant_setting(xp_per_10000_toman="4")
    member = w.make.member(w.tenant)
    w.approved_topup(member, amount=100_000)
    w.db.session.refresh(member)
    assert member.total_xp == 40


@probe("xp_daily_visit")
def _daily_visit(w: World):
    w.tenant_setting(xp_daily_visit="9")
    sara = w.user()
    sara.says("/start")
    assert w.member(sara).total_xp == 9


@probe("xp_sources_disabled")
def _sources_off(w: World):
    w.tenant_setting(xp_sources_disabled=["daily_visit"])
    sara = w.user()
    sara.says("/start")
    assert w.member(sara).total_xp == 0 and w.member(sara).streak_days == 1


@probe("levels")
def _level_table(w: World):
    w.tenant_setting(levels="0, 3, 6")                      # the daily visit gives 5 XP
    sara = w.user()
    sara.says("/start")
    assert w.member(sara).level == 2


@probe("daily_quota_free")
def _free_quota(w: World):
    w.tenant_setting(daily_quota_free="1")
    sara = w.user()
    sara.says("/start")
    sara.presses("m:use")
    sara.presses("m:use", message=sara.last())
    assert sara.callback_answers()[-1] == t("en", "quota.exhausted_short")
    assert w.db.session.scalar(sa.select(BotSession.daily_requests)) == 1


@probe("daily_quota_premium")
def _premium_quota(w: World):
    w.tenant_setting(daily_quota_premium="3")
    sara = w.user()
    sara.says("/start")
    member = w.member(sara)
    member.vip_level = 1
    w.db.session.commit()
    sara.presses("m:profile")
    assert t("en", "profile.requests", used="0", limit="3") in sara.last_text()


@probe("timezone")
def _time_zone(w: World):
    w.tenant_setting(timezone="Asia/Tokyo")
    reset = quota.next_reset(w.tenant).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (reset.hour, reset.minute) == (0, 0)


@probe("default_language")
def _default_language(w: World):
    w.tenant_setting(default_language="ru")
    nobody = w.user(first_name="Ali", language_code=None)
    nobody.says("/start")
    assert nobody.last_text() == t("ru", "start.welcome_new", name="Ali")


@probe("persian_digits")
def _persian_digits(w: World):
    w.tenant.wallet_balance = 1_234_567
    w.db.session.commit()
    w.client.post("/language", data={"csrf_token": csrf_token(w.client.get("/settings/")), "language": "fa"})
    assert "۱٬۲۳۴٬۵۶۷" in w.client.get("/wallet/").get_data(as_text=True)
    w.tenant_setting(persian_digits=False)
    page = w.client.get("/wallet/").get_data(as_text=True)
    assert "1,234,567" in page and "۱٬۲۳۴٬۵۶۷" not in page


@probe("welcome_text")
def _welcome(w: World):
    w.bot_setting(welcome_text_fa="به فروشگاه ما خوش آمدید", welcome_text_en="Welcome to our shop")
    en, fa = w.user(), w.user(language_code="fa")
    en.says("/start")
    fa.says("/start")
    assert (en.last_text(), fa.last_text()) == ("Welcome to our shop", "به فروشگاه ما خوش آمدید")


@probe("support_contact")
def _support(w: World):
    w.bot_setting(support_contact="@help_desk")
    sara = w.user()
    sara.says("/start")
    sara.presses("m:support")
    assert sara.last_text() == t("en", "support.contact", contact="@help_desk")


@probe("admin_chat_ids")
def _admin_chat(w: World):
    from tests.bots.conftest import PNG

    w.bot_setting(admin_chat_ids=f"{ADMIN_ID}")
    w.fleet.open_chat(ADMIN_ID, w.bot.telegram_bot_id)  # the admin started the bot on Telegram
    admin = w.user(user_id=ADMIN_ID)
    w.user().tops_up_with_photo(PNG)
    assert admin.bot_messages() and admin.bot_messages()[0]["caption"].startswith("🧾")


@pytest.mark.parametrize("flag,button", [("card_to_card", "m:topup"), ("promocodes", "m:promo"),
                                         ("referrals", "m:ref"), ("leaderboard", "m:top"), ("daily_quota", "m:use")])
def test_each_feature_switch_hides_its_menu_entry(world, flag, button):
    assert button in world.menu_buttons()
    world.bot_setting(**{flag: False})
    assert button not in world.menu_buttons()


@probe("wholesale_per_gb", "wholesale_percent")
def _wholesale(w: World):
    w.platform_setting(wholesale_per_gb="1000", wholesale_percent="10")
    plan = w.make.plan(w.tenant, price=100_000, traffic_gb=5)
    member = w.make.member(w.tenant, balance=100_000)
    w.tenant.wallet_credit_limit = 1_000_000
    before = w.tenant.wallet_balance
    plans.purchase_from_balance(member, plan, key="walk", actor="test")
    w.db.session.commit()
    w.db.session.refresh(w.tenant)
    assert before - w.tenant.wallet_balance == 5 * 1_000 + 10_000


FLAGS = ("card_to_card", "promocodes", "referrals", "leaderboard", "daily_quota")


@probe("zarinpal")
def _zarinpal(w: World):
    from app.services.payments import online

    online.set_merchant_id(w.tenant, "a" * 8 + "-" + "b" * 4 + "-" + "c" * 4 + "-" + "d" * 4 + "-" + "e" * 12,
                           actor="test")
    plan = w.make.plan(w.tenant)
    w.db.session.commit()

    def plan_buttons():
        sara = w.user()
        sara.says("/start")
        sara.presses("m:plans")
        sara.presses(f"pl:{plan.id}")
        return buttons(sara.last())
    assert f"zp:{plan.id}" in plan_buttons()
    w.bot_setting(zarinpal=False)
    assert f"zp:{plan.id}" not in plan_buttons()


@probe("bank_sms_mode")
def _bank_sms_mode(w: World):
    from app.services.payments import bank_matching
    from tests.payments.bank_helpers import mellat_sms

    def deposit(amount):
        receipts.open_invoice(w.make.member(w.tenant), amount=amount)
        w.db.session.commit()
        message = bank_matching.ingest(w.tenant, sender="Bank Mellat", text=mellat_sms(amount, CARD[-4:]),
                                       source="walk").message
        w.db.session.commit()
        return message.status

    assert deposit(150_347) == "suggested"               # the default waits for a person
    w.tenant_setting(bank_sms_mode="auto")
    assert deposit(160_347) == "approved"


@probe("bank_sms_unique_amounts")
def _unique_amounts(w: World):
    def invoice_amount():
        sara = w.user()
        sara.says("/start")
        sara.presses("m:topup")
        sara.presses("tu:100000")
        w.db.session.expire_all()
        return w.db.session.scalar(sa.select(Receipt.amount).where(Receipt.member_id == w.member(sara).id))

    assert invoice_amount() == 100_000
    w.tenant_setting(bank_sms_unique_amounts=True)
    assert 100_000 < invoice_amount() < 101_000


@probe("zarinpal")
def _zarinpal_switch(w: World):
    from app.services.payments import online

    online.set_merchant_id(w.tenant, "00000000-0000-0000-0000-000000000000", actor="walk")
    w.db.session.commit()

    def top_up_buttons():
        sara = w.user()
        sara.says("/start")
        sara.presses("m:topup")
        sara.presses("tu:100000")
        return buttons(sara.last())

    assert "zt:100000" in top_up_buttons()
    w.bot_setting(zarinpal=False)
    assert "zt:100000" not in top_up_buttons()


@probe("tickets")
def _tickets_switch(w: World):
    sara = w.user()
    sara.says("/start")
    sara.presses("m:support")
    assert "tk:new" in buttons(sara.last())
    w.bot_setting(tickets=False)
    sara.says("/start")
    sara.presses("m:support")
    assert "tk:new" not in buttons(sara.last())


@probe("ticket_autoclose_days")
def _ticket_autoclose(w: World):
    from app.jobs.tickets import close_quiet_tickets
    from app.models.types import utcnow
    from app.services import tickets

    member = w.make.member(w.tenant)
    ticket = tickets.open_ticket(member, w.bot, text="help")
    tickets.answer(ticket, "done", via="dashboard", actor="test", now=utcnow() - timedelta(days=3))
    w.db.session.commit()
    close_quiet_tickets(w.tenant, utcnow())
    assert ticket.status == "answered"                  # the default waits 7 days
    w.tenant_setting(ticket_autoclose_days="2")
    close_quiet_tickets(w.tenant, utcnow())
    assert ticket.status == "closed"


def test_every_declared_setting_is_walked():
    walked = {key for keys in PROBES for key in keys} | set(FLAGS)
    assert walked == set(REGISTRY), f"declared but not walked: {set(REGISTRY) - walked}"


@pytest.mark.parametrize("keys", list(PROBES), ids=["+".join(k) for k in PROBES])
def test_a_setting_changed_on_its_page_changes_behaviour(world, keys):
    PROBES[keys](world)


def test_a_bad_value_is_refused_next_to_its_field_and_nothing_changes(world):
    values = form_values(world.client.get("/settings/"), "tenant-settings")
    values["daily_quota_free"], values["referral_bonus_toman"] = "-3", "12"
    response = world.client.post("/settings/", data=values)
    assert response.status_code == 400 and "Enter a number from 0 to 1,000,000." in response.get_data(as_text=True)
    world.db.session.expire_all()
    assert (world.tenant.settings or {}).get("referral_bonus_toman") is None

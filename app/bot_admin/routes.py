"""Bots: status, connect by token, enable/disable, settings and feature flags."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.bot_admin import bp
from app.bot_admin.forms import AddBotForm, settings_form_class
from app.models import Bot
from app.services import bot_registration, bots
from app.services.listings import bots_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@readers
def index():
    return render_template("bot_admin/index.html", bots=bots_of_tenant(tenant_or_404()), button_form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    form = AddBotForm()
    if form.validate_on_submit():
        bot = save(lambda: bot_registration.connect_bot(tenant_or_404(), form.token.data, current_user), form, "token")
        if bot:
            flash(_("Bot @%(username)s connected.", username=bot.username), "success")
            return redirect(url_for("bot_admin.show", bot_id=bot.id))
    return render_template("bot_admin/new.html", form=form)


@bp.route("/<int:bot_id>")
@readers
def show(bot_id: int):
    bot = get_owned_or_404(Bot, bot_id)
    return render_template("bot_admin/show.html", bot=bot, form=_settings_form(bot), button_form=EmptyForm())


@bp.route("/<int:bot_id>/settings", methods=["POST"])
@owner_only
def settings(bot_id: int):
    bot = get_owned_or_404(Bot, bot_id)
    form = _settings_form(bot)
    if form.validate_on_submit():
        flags = {key: getattr(form, f"flag_{key}").data for key in bots.FEATURES}
        if save(lambda: bot_registration.update_settings(bot, form.settings(), flags, current_user), form):
            flash(_("Settings saved."), "success")
            return redirect(url_for("bot_admin.show", bot_id=bot.id))
    return render_template("bot_admin/show.html", bot=bot, form=form, button_form=EmptyForm()), 400


@bp.route("/<int:bot_id>/toggle", methods=["POST"])
@owner_only
def toggle(bot_id: int):
    bot = get_owned_or_404(Bot, bot_id)
    submitted(EmptyForm())
    if save(lambda: bot_registration.set_active(bot, not bot.is_active, current_user)):
        flash(_("Bot enabled.") if bot.is_active else _("Bot disabled."), "success")
    return redirect(url_for("bot_admin.index"))


def _settings_form(bot: Bot):
    data = {key: bots.get_setting(bot, key) for key in bot_registration.SETTING_KEYS}
    data["admin_chat_ids"] = ", ".join(str(i) for i in (data["admin_chat_ids"] or []))
    data.update({f"flag_{f.key}": f.enabled for f in bot.feature_flags})
    return settings_form_class()(data=data)

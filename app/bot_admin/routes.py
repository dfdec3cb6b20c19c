"""Bots: status, connect by token, enable/disable, settings and feature flags."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.bot_admin import bp
from app.bot_admin.forms import AddBotForm
from app.models import Bot
from app.services import bot_registration
from app.services import settings as registry
from app.services.listings import bots_of_tenant
from app.services.settings_declared import Scope
from app.settings_forms import build_form, save_settings
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
    form = build_form(registry.declared(Scope.BOT), bot)
    return render_template("bot_admin/show.html", bot=bot, form=form, button_form=EmptyForm())


@bp.route("/<int:bot_id>/settings", methods=["POST"])
@owner_only
def settings(bot_id: int):
    bot = get_owned_or_404(Bot, bot_id)
    specs = registry.declared(Scope.BOT)
    form = build_form(specs, bot, formdata=request.form)
    if form.validate_on_submit() and save_settings(bot, form, specs, current_user) is not None:
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


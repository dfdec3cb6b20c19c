"""Channels & groups: connect a paid chat, see its rights, members with access, pending removals; refunds of
Stars payments from the member page."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.chats import bp
from app.chats.forms import ConnectChatForm
from app.models import Bot, Member, PaidChat, StarPayment
from app.services import channels, chat_access, stars
from app.services.listings import bots_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.app_template_global("member_chat_grants")
def member_chat_grants(member: Member) -> list:
    """The member page's chats: each grant with its chat and state."""
    return chat_access.grants_of_member(member)


@bp.app_template_global("member_star_payments")
def member_star_payments(member: Member) -> list:
    return stars.payments_of(member)


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    form = _connect_form(tenant)
    return render_template("chats/index.html", chats=channels.chats_of(tenant), form=form,
                           missing=channels.missing_rights, button_form=EmptyForm())


@bp.route("/connect", methods=["POST"])
@owner_only
def connect():
    tenant = tenant_or_404()
    form = _connect_form(tenant)
    if form.validate_on_submit():
        bot = get_owned_or_404(Bot, form.bot_id.data)
        paid = save(lambda: channels.connect_chat(tenant, bot, form.chat.data, by=current_user), form, "chat")
        if paid:
            flash(_("Chat “%(title)s” connected.", title=paid.title), "success")
            return redirect(url_for("chats.show", paid_chat_id=paid.id))
    return render_template("chats/index.html", chats=channels.chats_of(tenant), form=form,
                           missing=channels.missing_rights, button_form=EmptyForm())


@bp.route("/<int:paid_chat_id>")
@readers
def show(paid_chat_id: int):
    paid = get_owned_or_404(PaidChat, paid_chat_id)
    return render_template("chats/show.html", chat=paid, missing=channels.missing_rights(paid),
                           overview=channels.chat_overview(paid), button_form=EmptyForm())


@bp.route("/<int:paid_chat_id>/check", methods=["POST"])
@owner_only
def check(paid_chat_id: int):
    paid = get_owned_or_404(PaidChat, paid_chat_id)
    submitted(EmptyForm())
    if save(lambda: channels.check_rights(paid)):
        flash(_("Rights checked."), "success")
    return redirect(url_for("chats.show", paid_chat_id=paid.id))


@bp.route("/<int:paid_chat_id>/disconnect", methods=["POST"])
@owner_only
def disconnect(paid_chat_id: int):
    paid = get_owned_or_404(PaidChat, paid_chat_id)
    submitted(EmptyForm())
    title = paid.title
    if save(lambda: channels.disconnect_chat(paid, by=current_user) or True):
        flash(_("Chat “%(title)s” disconnected.", title=title), "success")
    return redirect(url_for("chats.index"))


@bp.route("/stars/<int:star_payment_id>/refund", methods=["POST"])
@owner_only
def refund(star_payment_id: int):
    payment = get_owned_or_404(StarPayment, star_payment_id)
    submitted(EmptyForm())
    if save(lambda: stars.refund(payment, by=current_user)):
        flash(_("The refund is on its way; the subscription has ended."), "success")
    return redirect(url_for("members.show", member_id=payment.member_id))


def _connect_form(tenant) -> ConnectChatForm:
    form = ConnectChatForm()
    form.bot_id.choices = [(b.id, f"@{b.username}") for b in bots_of_tenant(tenant)]
    return form

"""Sign in and out, change password, accept a staff invitation."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app import unit_of_work
from app.auth import bp
from app.auth.forms import AcceptInvitationForm, ChangePasswordForm, EmptyForm, LoginForm
from app.extensions import db, login_manager
from app.models import Account, Tenant
from app.services import auth as auth_service
from app.services import invitations
from app.services.errors import DomainError
from app.tenant_context import switch_tenant
from app.web import safe_next, save

login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
#: Flask-Login flashes this on a protected page; lazy so the Persian page shows it in Persian.
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_account(user_id: str):
    """The account of a session or remember cookie whose session version is still current (Account.get_id)."""
    account_id, _, version = user_id.partition(":")
    if not (account_id.isdigit() and version.isdigit()):
        return None
    account = db.session.get(Account, int(account_id))
    if account is None or not account.is_enabled or account.session_version != int(version):
        return None
    return account


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            account = auth_service.sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        except auth_service.TooManyAttempts as err:
            flash(_("Too many sign-in attempts. Wait %(minutes)s minutes and try again.",
                    minutes=err.params["minutes"]), "danger")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(60 * err.params["minutes"])}
        unit_of_work.commit()
        if account:
            login_user(account, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        flash(_("Wrong email or password."), "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        auth_service.sign_out(current_user)
        unit_of_work.commit()
        logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        done = save(lambda: auth_service.change_password(
            current_user, form.current_password.data, form.new_password.data) or True, form, "current_password")
        if done:
            login_user(current_user._get_current_object())  # this session carries the new session version
            flash(_("Your password was changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/invite/<secret>", methods=["GET", "POST"])
def accept_invitation(secret: str):
    """Join a tenant from an owner's one-time link: the signed-in account, or a new one."""
    try:
        invitation = invitations.open_invitation(secret)
    except DomainError:
        abort(404)
    form = EmptyForm() if current_user.is_authenticated else AcceptInvitationForm()
    if form.validate_on_submit():
        membership = save(lambda: _accept(secret, form), form, "email")
        if membership:
            login_user(membership.account)
            switch_tenant(membership.tenant_id)
            flash(_("Welcome to %(tenant)s.", tenant=membership.tenant.name), "success")
            return redirect(url_for("main.home"))
    tenant = db.session.get(Tenant, invitation.tenant_id)
    return render_template("auth/invitation.html", form=form, invitation=invitation, invited_tenant=tenant)


def _accept(secret: str, form):
    if current_user.is_authenticated:
        return invitations.accept_invitation(secret, current_user)
    return invitations.accept_with_new_account(secret, form.email.data, form.password.data)

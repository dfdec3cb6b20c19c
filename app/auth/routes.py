from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import EmptyForm, LoginForm
from app.extensions import db, login_manager
from app.models import Account
from app.services import auth as auth_service

login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_account(account_id: str):
    account = db.session.get(Account, int(account_id))
    return account if account and account.is_enabled else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        account = auth_service.authenticate(form.email.data, form.password.data)
        if account:
            login_user(account, remember=form.remember.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
        db.session.commit()
        flash("Wrong email or password.", "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, never //host or absolute URLs."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None

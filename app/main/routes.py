from flask import render_template
from flask_login import current_user, login_required

from app.auth.forms import EmptyForm
from app.main import bp
from app.services.tenancy import memberships_of


@bp.route("/")
@login_required
def home():
    return render_template("main/home.html", memberships=memberships_of(current_user), logout_form=EmptyForm())

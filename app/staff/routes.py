"""Staff of a tenant and the one-time invitation links the owner hands out."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.models import StaffInvitation
from app.services import invitations
from app.staff import bp
from app.staff.forms import InviteForm
from app.tenant_context import get_owned_or_404
from app.web import owner_only, save, submitted, tenant_or_404


@bp.route("/")
@owner_only
def index():
    return _page(InviteForm())


@bp.route("/invite", methods=["POST"])
@owner_only
def invite():
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        created = save(lambda: invitations.create_invitation(tenant_or_404(), form.role.data, current_user), form, "role")
        if created:
            link = url_for("auth.accept_invitation", secret=created[1], _external=True)
    return _page(form, new_link=link)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@owner_only
def revoke(invitation_id: int):
    invitation = get_owned_or_404(StaffInvitation, invitation_id)
    submitted(EmptyForm())
    if save(lambda: invitations.revoke_invitation(invitation, current_user) or True):
        flash(_("The invitation link no longer works."), "success")
    return redirect(url_for("staff.index"))


def _page(form, new_link=None):
    tenant = tenant_or_404()
    return render_template("staff/index.html", form=form, new_link=new_link, staff=invitations.staff_of(tenant),
                           pending=invitations.pending_invitations(tenant), button_form=EmptyForm())

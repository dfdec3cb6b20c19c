"""Integrations: the owner's API tokens (created shown once, revoked) and event webhook endpoints with their
delivery log. The same operations as the API's, through the same services."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.extensions import db
from app.integrations import bp
from app.integrations.forms import EndpointForm, TokenForm
from app.services import api_tokens, webhooks
from app.services.errors import NotFound
from app.web import owner_only, save, submitted, tenant_or_404

DELIVERIES_SHOWN = 50


@bp.route("/")
@owner_only
def index():
    return _page()


@bp.route("/tokens", methods=["POST"])
@owner_only
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(token_form=form), 400
    created = save(lambda: api_tokens.create_token(tenant_or_404(), form.name.data, form.scopes.data,
                                                   by=current_user), form, "name")
    if created is None:
        return _page(token_form=form), 400
    return _page(new_token=created[1])  # shown in this response only; never stored in plain


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@owner_only
def revoke_token(token_id: int):
    submitted(EmptyForm())
    _or_404(lambda: api_tokens.revoke(tenant_or_404(), token_id, by=current_user))
    flash(_("Token revoked."), "success")
    return redirect(url_for("integrations.index"))


@bp.route("/webhooks", methods=["POST"])
@owner_only
def create_endpoint():
    form = EndpointForm()
    if not form.validate_on_submit():
        return _page(endpoint_form=form), 400
    created = save(lambda: webhooks.create_endpoint(tenant_or_404(), form.url.data, events=form.events.data,
                                                    description=form.description.data, by=current_user),
                   form, "url")
    if created is None:
        return _page(endpoint_form=form), 400
    return _page(new_secret=created[1])


@bp.route("/webhooks/<int:endpoint_id>")
@owner_only
def deliveries(endpoint_id: int):
    endpoint = _or_404(lambda: webhooks.get_endpoint(tenant_or_404(), endpoint_id))
    rows = db.session.scalars(webhooks.deliveries_query(tenant_or_404(), endpoint).limit(DELIVERIES_SHOWN)).all()
    return render_template("integrations/deliveries.html", endpoint=endpoint, deliveries=rows,
                           button_form=EmptyForm())


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@owner_only
def delete_endpoint(endpoint_id: int):
    submitted(EmptyForm())
    endpoint = _or_404(lambda: webhooks.get_endpoint(tenant_or_404(), endpoint_id))
    save(lambda: webhooks.delete_endpoint(endpoint, by=current_user))
    flash(_("Webhook endpoint removed."), "success")
    return redirect(url_for("integrations.index"))


@bp.route("/deliveries/<int:delivery_id>/resend", methods=["POST"])
@owner_only
def resend(delivery_id: int):
    submitted(EmptyForm())
    delivery = _or_404(lambda: webhooks.get_delivery(tenant_or_404(), delivery_id))
    if save(lambda: webhooks.resend(delivery)):
        flash(_("The event will be sent again."), "success")
    return redirect(url_for("integrations.deliveries", endpoint_id=delivery.endpoint_id))


def _page(token_form=None, endpoint_form=None, new_token=None, new_secret=None):
    tenant = tenant_or_404()
    return render_template("integrations/index.html", tokens=api_tokens.tokens_of(tenant),
                           endpoints=webhooks.endpoints_of(tenant), token_form=token_form or TokenForm(formdata=None),
                           endpoint_form=endpoint_form or EndpointForm(formdata=None), new_token=new_token,
                           new_secret=new_secret, button_form=EmptyForm())


def _or_404(lookup):
    try:
        return lookup()
    except NotFound:
        abort(404)

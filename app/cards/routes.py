"""Payment cards: masked numbers, today's received vs cap, rotation with a preview of the next card."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.cards import bp
from app.cards.forms import ROTATION_LABELS, CardForm, RotationForm
from app.models import PaymentCard
from app.services import audit
from app.services import cards as card_service
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    rotation = RotationForm(strategy=tenant.card_rotation_strategy, minutes=tenant.card_rotation_minutes)
    return _page(rotation)


@bp.route("/rotation", methods=["POST"])
@owner_only
def rotation():
    form = RotationForm()
    if form.validate_on_submit():
        done = save(lambda: card_service.set_rotation_strategy(
            tenant_or_404(), form.strategy.data, form.minutes.data, actor=_actor()), form, "strategy")
        if done:
            flash(_("Rotation saved."), "success")
            return redirect(url_for("cards.index"))
    return _page(form)


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    form = CardForm()
    if form.validate_on_submit():
        card = save(lambda: card_service.create_card(tenant_or_404(), actor=_actor(), **form.service_fields()),
                    form, "card_number")
        if card:
            flash(_("Card %(number)s added.", number=card.masked_number), "success")
            return redirect(url_for("cards.index"))
    return render_template("cards/form.html", form=form, card=None)


@bp.route("/<int:card_id>/edit", methods=["GET", "POST"])
@owner_only
def edit(card_id: int):
    card = get_owned_or_404(PaymentCard, card_id)
    form = CardForm(obj=card)
    if form.validate_on_submit():
        if save(lambda: card_service.update_card(card, actor=_actor(), **form.service_fields()), form, "card_number"):
            flash(_("Card %(number)s saved.", number=card.masked_number), "success")
            return redirect(url_for("cards.index"))
    return render_template("cards/form.html", form=form, card=card)


@bp.route("/<int:card_id>/toggle", methods=["POST"])
@owner_only
def toggle(card_id: int):
    card = get_owned_or_404(PaymentCard, card_id)
    submitted(EmptyForm())
    save(lambda: card_service.update_card(card, actor=_actor(), is_active=not card.is_active))
    return redirect(url_for("cards.index"))


def _page(rotation_form):
    tenant = tenant_or_404()
    rows = [{"card": c, "received_today": card_service.received_today(c, tenant),
             "approval_rate": _rate(c)} for c in card_service.tenant_cards(tenant)]
    return render_template("cards/index.html", rows=rows, rotation_form=rotation_form, button_form=EmptyForm(),
                           next_card=card_service.preview_next_card(tenant), rotation_labels=ROTATION_LABELS)


def _rate(card: PaymentCard) -> int | None:
    decided = card.approved_count + card.rejected_count
    return round(100 * card.approved_count / decided) if decided else None


def _actor() -> str:
    return audit.actor_of(current_user)

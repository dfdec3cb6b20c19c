"""Broadcasts (owners only): compose → count and preview → confirm → live progress; pause, resume, cancel."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.broadcasts import bp
from app.broadcasts.forms import LANGUAGE_LABELS, SEGMENT_LABELS, ComposeForm
from app.extensions import db
from app.models import Broadcast
from app.services import broadcasts
from app.services.broadcasts import PHOTO_MAGIC, Draft
from app.services.broadcasts.segments import Segment
from app.services.errors import DomainError
from app.services.listings import bots_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, save, show_error, submitted, tenant_or_404


@bp.route("/")
@owner_only
def index():
    return render_template("broadcasts/index.html", items=broadcasts.list_broadcasts(tenant_or_404()))


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    tenant = tenant_or_404()
    form = ComposeForm()
    form.bot_ids.choices = [(b.id, f"@{b.username}") for b in bots_of_tenant(tenant) if b.is_active]
    if form.validate_on_submit():
        draft = _draft(form)
        broadcast = draft and save(lambda: broadcasts.compose(tenant, draft, by=current_user), form, "text")
        if broadcast:
            return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))
    return render_template("broadcasts/new.html", form=form)


def _draft(form: ComposeForm) -> Draft | None:
    """The form as a Draft; None (with the reason on the form) when the segment is refused."""
    try:
        segment = Segment(kind=form.kind.data, days=form.days.data, language=form.language.data or None,
                          joined_from=form.joined_from.data, joined_to=form.joined_to.data,
                          badge=(form.badge.data or "").strip() or None, badge_has=form.badge_has.data == "1")
    except DomainError as err:
        show_error(err.message, form, "kind")
        return None
    photo = form.photo.data.read() if form.photo.data else None
    return Draft(text=form.text.data, bot_ids=form.bot_ids.data, segment=segment, photo=photo or None,
                 texts={"fa": form.text_fa.data or "", "en": form.text_en.data or "", "ru": form.text_ru.data or ""},
                 button_text=form.button_text.data, button_url=form.button_url.data)


@bp.route("/<int:broadcast_id>")
@owner_only
def show(broadcast_id: int):
    broadcast = get_owned_or_404(Broadcast, broadcast_id)
    segment = Segment.from_dict(broadcast.segment)
    return render_template("broadcasts/show.html", broadcast=broadcast, segment=segment,
                           segment_labels=SEGMENT_LABELS, language_labels=LANGUAGE_LABELS,
                           previews=broadcasts.preview(broadcast) if broadcast.status == "draft" else [],
                           progress=broadcasts.progress(broadcast), has_photo=_photo_of(broadcast) is not None,
                           button_form=EmptyForm())


@bp.route("/<int:broadcast_id>/progress")
@owner_only
def progress(broadcast_id: int):
    return jsonify(broadcasts.progress(get_owned_or_404(Broadcast, broadcast_id)))


@bp.route("/<int:broadcast_id>/photo")
@owner_only
def photo(broadcast_id: int):
    data = _photo_of(get_owned_or_404(Broadcast, broadcast_id))
    if data is None:
        abort(404)
    kind = "image/png" if data.startswith(PHOTO_MAGIC[0]) else "image/jpeg"
    return Response(data, mimetype=kind, headers={"X-Content-Type-Options": "nosniff"})


def _photo_of(broadcast: Broadcast) -> bytes | None:
    return db.session.scalar(sa.select(Broadcast.photo).where(Broadcast.id == broadcast.id))


@bp.route("/<int:broadcast_id>/confirm", methods=["POST"])
@owner_only
def confirm(broadcast_id: int):
    return _change(broadcast_id, broadcasts.confirm, _("Confirmed: the broadcast is being sent."))


@bp.route("/<int:broadcast_id>/pause", methods=["POST"])
@owner_only
def pause(broadcast_id: int):
    return _change(broadcast_id, broadcasts.pause, _("The broadcast is paused."))


@bp.route("/<int:broadcast_id>/resume", methods=["POST"])
@owner_only
def resume(broadcast_id: int):
    return _change(broadcast_id, broadcasts.resume, _("The broadcast continues."))


@bp.route("/<int:broadcast_id>/cancel", methods=["POST"])
@owner_only
def cancel(broadcast_id: int):
    return _change(broadcast_id, broadcasts.cancel, _("The broadcast is cancelled."))


def _change(broadcast_id: int, operation, done: str):
    broadcast = get_owned_or_404(Broadcast, broadcast_id)
    submitted(EmptyForm())
    if save(lambda: operation(broadcast, by=current_user)):
        flash(done, "success")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast_id))

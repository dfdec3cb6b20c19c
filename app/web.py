"""Small helpers the dashboard views share: role guards, the commit boundary, form errors."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from flask import abort, flash, request, send_file
from flask_wtf import FlaskForm

from app import unit_of_work
from app.error_texts import error_message
from app.models import Role
from app.services import images
from app.services.errors import DomainError
from app.tenant_context import current_tenant, roles_required

T = TypeVar("T")

#: Owners change things; viewers only read; approvers see receipts only.
owner_only = roles_required(Role.OWNER)
readers = roles_required(Role.OWNER, Role.VIEWER)
receipt_readers = roles_required(Role.OWNER, Role.VIEWER, Role.APPROVER)
receipt_deciders = roles_required(Role.OWNER, Role.APPROVER)
member_readers = roles_required(Role.OWNER, Role.VIEWER, Role.SUPPORT)
ticket_readers = roles_required(Role.OWNER, Role.APPROVER, Role.VIEWER, Role.SUPPORT)
ticket_answerers = roles_required(Role.OWNER, Role.APPROVER, Role.SUPPORT)


def safe_next(target: str | None) -> str | None:
    r"""`target` if it is a path on this site, else None (never //host, absolute URLs or tricks).

    Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so "/\t/evil" and
    "/\evil" would leave the site: any control character, whitespace or backslash refuses the target.
    What is left must resolve, joined to this request's URL, to this very host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in target):
        return None
    resolved = urlsplit(urljoin(request.host_url, target))
    if resolved.scheme not in ("http", "https") or resolved.netloc != request.host:
        return None
    return target


def tenant_or_404():
    tenant = current_tenant()
    if tenant is None:
        abort(404)
    return tenant


def save(operation: Callable[[], T], form: FlaskForm | None = None, field: str | None = None) -> T | None:
    """Run a service call in one unit of work (commit, then dispatch the outbox); on a DomainError roll back and show its message.

    The message goes next to `field` of `form` when given, else into a flash. Returns None on refusal.
    """
    try:
        return unit_of_work.run(operation)
    except DomainError as err:
        show_error(error_message(err), form, field)
        return None


def show_error(message: str, form: FlaskForm | None = None, field: str | None = None) -> None:
    if form is not None and field and field in form:
        form[field].errors = list(form[field].errors) + [message]
    else:
        flash(message, "danger")


def submitted(form: FlaskForm) -> bool:
    """A POSTed form with a valid CSRF token (the empty forms behind buttons)."""
    if not form.validate_on_submit():
        abort(400)
    return True


def stored_image(relative_path: str | None):
    """A stored receipt/ticket image (app.services.images) for staff: its real type, never sniffed or cached."""
    path = images.stored_path(relative_path)
    mime_type = images.mime_type_of(path) if path is not None else None
    if mime_type is None:
        abort(404)
    response = send_file(path, mimetype=mime_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

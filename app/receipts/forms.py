from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms_common import JalaliDateField, SaneDay, TomanField
from app.labels import LABELS
from app.models import ReceiptStatus

STATUS_LABELS = LABELS["receipt_status"]


class FilterForm(FlaskForm):
    """GET filters of the queue (no CSRF: reading only)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=list(STATUS_LABELS.items()),
                         default=ReceiptStatus.PENDING_REVIEW.value, validators=[Optional()])
    bot_id = SelectField(_l("Bot"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    card_id = SelectField(_l("Card"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    day_from = JalaliDateField(_l("From"), validators=[Optional(), SaneDay()], render_kw={"placeholder": "1403/01/15"})
    day_to = JalaliDateField(_l("To"), validators=[Optional(), SaneDay()], render_kw={"placeholder": "1403/01/15"})
    tracking_code = StringField(_l("Tracking code"), validators=[Optional(), Length(max=16)])


class ApproveForm(FlaskForm):
    amount = TomanField(_l("Amount that really arrived (empty: as requested)"), optional=True)
    submit = SubmitField(_l("Approve"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the member reads it)"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Reject"))

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.services.amounts import MAX_AMOUNT
from app.services.errors import ValidationFailed
from app.services.parsing import parse_int


class AdjustBalanceForm(FlaskForm):
    #: One id per rendered form: a double submit is one adjustment (the ledger key).
    request_id = HiddenField(default=lambda: uuid.uuid4().hex)
    amount = StringField(_l("Amount in Toman (negative to take away)"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Adjust balance"))

    def validate_request_id(self, field):
        try:
            uuid.UUID(field.data or "")
        except ValueError:
            raise ValidationError(_l("Reload the page and try again.")) from None

    def validate_amount(self, field):
        try:
            amount = parse_int(field.data, signed=True)
        except ValidationFailed:
            amount = 0
        if amount == 0 or abs(amount) > MAX_AMOUNT:
            raise ValidationError(_l("Enter a whole number of Toman, e.g. 50000 or -20000."))
        field.data = amount


class GrantForm(FlaskForm):
    plan_id = SelectField(_l("Plan"), coerce=int)
    days = IntegerField(_l("Days (empty: the plan's period)"), validators=[Optional(), NumberRange(min=1, max=3650)])
    submit = SubmitField(_l("Grant"))


class CancelSubscriptionForm(FlaskForm):
    #: One id per rendered form: a double submit refunds once (the ledger key).
    request_id = HiddenField(default=lambda: uuid.uuid4().hex)
    refund = StringField(_l("Refund to the member's balance, Toman (0 for none)"), default="0",
                         validators=[DataRequired()])
    reason = StringField(_l("Reason (the member is told)"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Cancel the subscription now"))

    validate_request_id = AdjustBalanceForm.validate_request_id

    def validate_refund(self, field):
        try:
            refund = parse_int(field.data)
        except ValidationFailed:
            raise ValidationError(_l("Enter a whole number of Toman, e.g. 0 or 50000.")) from None
        field.data = refund


class ChangePlanForm(FlaskForm):
    plan_id = SelectField(_l("New plan"), coerce=int)
    submit = SubmitField(_l("Change the plan"))

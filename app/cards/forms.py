from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.error_texts import error_message
from app.forms_common import TomanField
from app.labels import LABELS
from app.services import cards as card_service
from app.services.errors import DomainError

ROTATION_LABELS = LABELS["card_rotation"]


class CardForm(FlaskForm):
    card_number = StringField(_l("Card number (16 digits)"), validators=[DataRequired(), Length(max=40)])
    holder_name = StringField(_l("Holder name"), validators=[DataRequired(), Length(max=120)])
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=80)])
    #: Deposit SMS often name the account, not the card: with it the bank-SMS matching finds this card.
    account_number = StringField(_l("Account number behind the card (optional, for bank SMS matching)"),
                                 validators=[Optional(), Length(max=40)], render_kw={"dir": "ltr"})
    weight = IntegerField(_l("Weight"), default=1, validators=[NumberRange(min=0, max=1000)])
    daily_cap = TomanField(_l("Daily cap (Toman, empty: no cap)"), optional=True)
    is_active = BooleanField(_l("In rotation"), default=True)
    submit = SubmitField(_l("Save"))

    def validate_card_number(self, field):
        try:
            field.data = card_service.normalize_card_number(field.data)
        except DomainError as err:
            raise ValidationError(error_message(err)) from None

    def service_fields(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "card_number", "holder_name", "bank_name", "account_number", "weight", "daily_cap", "is_active")}


class RotationForm(FlaskForm):
    strategy = SelectField(_l("Rotation"), choices=list(ROTATION_LABELS.items()))
    minutes = IntegerField(_l("Minutes per card (time based)"), validators=[Optional(), NumberRange(min=1, max=10080)])
    submit = SubmitField(_l("Save rotation"))

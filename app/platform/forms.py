import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.forms_common import TomanField


class TenantForm(FlaskForm):
    name = StringField(_l("Tenant name"), validators=[DataRequired(), Length(max=120)])
    owner_email = EmailField(_l("Owner email"), validators=[DataRequired(), Length(max=254), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an email address."))])
    owner_password = PasswordField(_l("Owner password (for a new account)"), validators=[Optional(), Length(min=8)])
    submit = SubmitField(_l("Create tenant"))


class TopupForm(FlaskForm):
    #: One id per rendered form, so a double submit is one top-up.
    request_id = HiddenField(default=lambda: uuid.uuid4().hex)
    amount = TomanField(_l("Amount (Toman)"))
    submit = SubmitField(_l("Top up"))



class PlatformCardForm(FlaskForm):
    card_number = StringField(_l("Card number"), validators=[DataRequired(), Length(max=40)],
                              render_kw={"dir": "ltr", "inputmode": "numeric"})
    holder_name = StringField(_l("Card holder"), validators=[DataRequired(), Length(max=120)])
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=80)])
    account_number = StringField(_l("Account number (optional)"), validators=[Optional(), Length(max=40)],
                                 render_kw={"dir": "ltr"})
    submit = SubmitField(_l("Add card"))


class PlatformRejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the tenant's owner reads it)"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Reject"))

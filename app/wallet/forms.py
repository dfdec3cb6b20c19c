from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from app.forms_common import TomanField


class ZarinpalTopupForm(FlaskForm):
    amount = TomanField(_l("Amount (Toman)"))
    submit = SubmitField(_l("Pay with Zarinpal"))


class CardTopupForm(FlaskForm):
    """The owner's card-to-card transfer to a platform card, with the receipt image."""

    card_id = SelectField(_l("Platform card you transferred to"), coerce=int)
    amount = TomanField(_l("Amount transferred (Toman)"))
    photo = FileField(_l("Receipt image (JPEG, PNG or WebP, at most 5 MB)"),
                      validators=[FileRequired(_l("Choose the receipt image."))],
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})
    text = StringField(_l("Transfer reference (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Send the receipt"))

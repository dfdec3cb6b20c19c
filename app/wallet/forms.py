from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from app.forms_common import TomanField


class ZarinpalTopupForm(FlaskForm):
    amount = TomanField(_l("Amount (Toman)"))
    submit = SubmitField(_l("Pay with Zarinpal"))

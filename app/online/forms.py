from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import Length, Optional


class MerchantForm(FlaskForm):
    #: A password field: the merchant id is never echoed back into the page.
    merchant_id = PasswordField(_l("Zarinpal merchant id (36 characters)"), validators=[Optional(), Length(max=64)])
    clear = BooleanField(_l("Remove the merchant id (turns online payment off)"))
    submit = SubmitField(_l("Save"))

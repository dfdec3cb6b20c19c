from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


class AddBotForm(FlaskForm):
    #: A password field so the token is never echoed back into the page.
    token = PasswordField(_l("Bot token from @BotFather"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Connect bot"))

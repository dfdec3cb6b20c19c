from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

MAX_PASTE = 50_000


class PasteForm(FlaskForm):
    sender = StringField(_l("Sender (as your phone shows it, e.g. Bank Mellat)"),
                         validators=[DataRequired(), Length(max=64)])
    texts = TextAreaField(_l("SMS texts (separate several with a line of ---)"),
                          validators=[DataRequired(), Length(max=MAX_PASTE)])
    submit = SubmitField(_l("Match"))

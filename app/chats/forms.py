from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class ConnectChatForm(FlaskForm):
    bot_id = SelectField(_l("Bot"), coerce=int)
    chat = StringField(_l("Chat id or @username"), validators=[DataRequired(), Length(max=40)],
                       description=_l("Add the bot to the channel or group as an administrator with the rights "
                                      "“Invite users” and “Ban users” first."))
    submit = SubmitField(_l("Connect"))

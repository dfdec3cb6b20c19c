from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField

#: The largest users_data.json the dashboard takes; bigger files go through `flask import members`.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class UsersJsonForm(FlaskForm):
    document = FileField(_l("users_data.json"), validators=[FileRequired()])
    bot_id = SelectField(_l("Move the members under this bot"), coerce=lambda v: int(v) if v else None)
    dry_run = BooleanField(_l("Dry run: check everything, write nothing"), default=True)
    submit = SubmitField(_l("Import"))

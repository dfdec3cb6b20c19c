from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.services.tickets import TEXT_LIMIT


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    submit = SubmitField(_l("Send answer"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=lambda v: int(v) if v else None)
    submit = SubmitField(_l("Assign"))

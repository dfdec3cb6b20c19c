from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms_common import JalaliDateField, SaneDay
from app.labels import LABELS

KIND_LABELS = LABELS["promocode_kind"]


class PromocodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(min=3, max=32)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    value = IntegerField(_l("Value"), validators=[InputRequired(), NumberRange(min=1, max=1_000_000_000)])
    plan_id = SelectField(_l("Plan (for days of a plan)"), coerce=lambda v: int(v) if v else None,
                          validators=[Optional()])
    max_uses = IntegerField(_l("Maximum uses (empty: unlimited)"),
                            validators=[Optional(), NumberRange(min=1, max=1_000_000_000)])
    expires_on = JalaliDateField(_l("Expires on (empty: never)"), validators=[Optional(), SaneDay()],
                                 render_kw={"placeholder": "1403/01/15"})
    submit = SubmitField(_l("Create code"))

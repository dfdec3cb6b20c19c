from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.forms_common import JalaliDateField, SaneDay


class AuditFilterForm(FlaskForm):
    """GET filters of the audit log (no CSRF: reading only)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Actor (e.g. account:3, telegram:123)"), validators=[Optional(), Length(max=64)])
    target = StringField(_l("Target (e.g. receipt:42)"), validators=[Optional(), Length(max=64)])
    day_from = JalaliDateField(_l("From"), validators=[Optional(), SaneDay()], render_kw={"placeholder": "1403/01/15"})
    day_to = JalaliDateField(_l("To"), validators=[Optional(), SaneDay()], render_kw={"placeholder": "1403/01/15"})

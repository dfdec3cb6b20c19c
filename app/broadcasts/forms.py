from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms_common import JalaliDateField, SaneDay
from app.labels import LABELS
from app.services.broadcasts import TEXT_LIMIT

SEGMENT_LABELS = LABELS["broadcast_segment"]
LANGUAGE_LABELS = {"fa": "فارسی", "en": "English", "ru": "Русский"}


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ComposeForm(FlaskForm):
    bot_ids = CheckboxesField(_l("Send through these bots"), coerce=int, validators=[DataRequired()])
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=TEXT_LIMIT)],
                         render_kw={"rows": 5})
    text_fa = TextAreaField(_l("Persian text (optional; empty: the message above)"),
                            validators=[Optional(), Length(max=TEXT_LIMIT)], render_kw={"rows": 2})
    text_en = TextAreaField(_l("English text (optional)"), validators=[Optional(), Length(max=TEXT_LIMIT)],
                            render_kw={"rows": 2})
    text_ru = TextAreaField(_l("Russian text (optional)"), validators=[Optional(), Length(max=TEXT_LIMIT)],
                            render_kw={"rows": 2})
    photo = FileField(_l("Photo (optional, PNG or JPEG)"))
    button_text = StringField(_l("Button label (optional)"), validators=[Optional(), Length(max=64)])
    button_url = StringField(_l("Button link"), validators=[Optional(), Length(max=500)],
                             render_kw={"placeholder": "https://", "dir": "ltr"})
    kind = SelectField(_l("Who"), choices=list(SEGMENT_LABELS.items()))
    days = IntegerField(_l("Days (for 'expired in the last N days')"),
                        validators=[Optional(), NumberRange(min=1, max=3650)])
    language = SelectField(_l("Language"), choices=[("", _l("Any language")), *LANGUAGE_LABELS.items()])
    joined_from = JalaliDateField(_l("Joined on or after (optional)"), validators=[Optional(), SaneDay()])
    joined_to = JalaliDateField(_l("Joined on or before (optional)"), validators=[Optional(), SaneDay()])
    badge = StringField(_l("Badge code (optional)"), validators=[Optional(), Length(max=40)],
                        render_kw={"dir": "ltr"})
    badge_has = SelectField(_l("Badge"), choices=[("1", _l("has the badge")), ("0", _l("does not have the badge"))])
    submit = SubmitField(_l("Count and preview"))

"""Forms of the integrations page: an API token, a webhook endpoint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.services import api_tokens, webhooks


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    scopes = Checkboxes(_l("Scopes"), choices=[(s, s) for s in api_tokens.SCOPES],
                        description=_l("None ticked: every scope."))


class EndpointForm(FlaskForm):
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500)])
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = Checkboxes(_l("Events"), choices=[(e, e) for e in webhooks.EVENTS],
                        description=_l("None ticked: every event."))

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms_common import TomanField


class PlanForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    period_days = IntegerField(_l("Days"), validators=[InputRequired(), NumberRange(min=1, max=3650)])
    price = TomanField(_l("Price (Toman)"))
    traffic_gb = IntegerField(_l("Traffic (GB, empty: unmetered)"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    daily_request_quota = IntegerField(_l("Requests per day (empty: tenant default)"),
                                       validators=[Optional(), NumberRange(min=0, max=1_000_000_000)])
    stars_price = IntegerField(_l("Price in Telegram Stars (empty: not sold for Stars)"),
                               validators=[Optional(), NumberRange(min=1, max=100_000)],
                               description=_l("A 30-day plan paid in Stars renews by itself every 30 days until the "
                                              "member cancels it."))
    chats = SelectMultipleField(_l("Channels & groups it gives access to"), coerce=int, validators=[Optional()])
    is_active = BooleanField(_l("On sale"), default=True)
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "description", "period_days", "price", "traffic_gb", "daily_request_quota", "stars_price",
            "is_active")}


class ReorderForm(FlaskForm):
    #: Plan ids in the new order, comma-separated.
    order = HiddenField(validators=[DataRequired()])

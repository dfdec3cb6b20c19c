import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.services.bots import FEATURES

FEATURE_LABELS = {"card_to_card": _l("Card-to-card payments"), "promocodes": _l("Promo codes"),
                  "referrals": _l("Referrals"), "leaderboard": _l("Leaderboard"), "daily_quota": _l("Daily quota"),
                  "zarinpal": _l("Zarinpal online payments")}


class AddBotForm(FlaskForm):
    #: A password field so the token is never echoed back into the page.
    token = PasswordField(_l("Bot token from @BotFather"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Connect bot"))


class BotSettingsForm(FlaskForm):
    admin_chat_ids = StringField(_l("Admin chat ids (comma-separated)"), validators=[Optional(), Length(max=500)])
    welcome_text = TextAreaField(_l("Welcome text"), validators=[Optional(), Length(max=2000)])
    support_contact = StringField(_l("Support contact"), validators=[Optional(), Length(max=120)])
    free_daily_quota = IntegerField(_l("Free requests per day"), validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    premium_daily_quota = IntegerField(_l("Premium requests per day"),
                                       validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    submit = SubmitField(_l("Save settings"))

    def validate_admin_chat_ids(self, field):
        parts = [p for p in re.split(r"[,\s]+", field.data or "") if p]
        if any(not re.fullmatch(r"-?\d{1,20}", p) for p in parts):
            raise ValidationError(_l("Chat ids are whole numbers, e.g. 123456789 or -1001234567890."))
        field.data = [int(p) for p in parts]

    def settings(self) -> dict:
        return {k: getattr(self, k).data for k in (
            "admin_chat_ids", "welcome_text", "support_contact", "free_daily_quota", "premium_daily_quota")}


def settings_form_class():
    """BotSettingsForm with one checkbox per feature flag."""
    class Form(BotSettingsForm):
        pass
    for key in FEATURES:
        setattr(Form, f"flag_{key}", BooleanField(FEATURE_LABELS[key]))
    return Form

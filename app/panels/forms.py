"""Forms of the panels area: a panel, and which panel a plan sells through."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from app.models import OnCancel, PanelKind

KIND_LABELS = {
    PanelKind.MARZBAN.value: _l("Marzban"),
    PanelKind.PASARGUARD.value: _l("PasarGuard"),
    PanelKind.REMNAWAVE.value: _l("Remnawave"),
    PanelKind.XUI.value: _l("3x-ui"),
}
ON_CANCEL_LABELS = {
    OnCancel.DISABLE.value: _l("Disable the panel user"),
    OnCancel.DELETE.value: _l("Delete the panel user"),
}


class PanelForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Panel type"), choices=list(KIND_LABELS.items()))
    base_url = StringField(_l("Panel address (e.g. https://panel.example.com:8000)"),
                           validators=[DataRequired(), Length(max=500)])
    username = StringField(_l("Admin username (Marzban, PasarGuard, 3x-ui)"), validators=[Length(max=120)])
    password = PasswordField(_l("Admin password (empty: keep the saved one)"), validators=[Length(max=200)])
    token = PasswordField(_l("API token (Remnawave; empty: keep the saved one)"), validators=[Length(max=2000)])
    subscription_base_url = StringField(_l("Subscription address (3x-ui, e.g. https://host:2096/sub/)"),
                                        validators=[Optional(), Length(max=500)])
    on_cancel = SelectField(_l("When a subscription is cancelled or refunded"),
                            choices=list(ON_CANCEL_LABELS.items()))
    is_active = BooleanField(_l("Active (read usage, provision)"), default=True)
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        return {name: getattr(self, name).data or "" for name in (
            "name", "base_url", "username", "password", "token", "subscription_base_url", "on_cancel")}


class PlanPanelForm(FlaskForm):
    panel_id = SelectField(_l("Panel"), coerce=int)
    proxies = TextAreaField(_l("Marzban proxies (JSON, e.g. {\"vless\": {}})"), validators=[Optional()])
    inbounds = TextAreaField(_l("Marzban inbounds (JSON, e.g. {\"vless\": [\"VLESS TCP\"]})"), validators=[Optional()])
    group_ids = StringField(_l("PasarGuard group ids (comma separated)"), validators=[Optional(), Length(max=200)])
    squads = TextAreaField(_l("Remnawave internal squad UUIDs (one per line)"), validators=[Optional()])
    inbound_id = StringField(_l("3x-ui inbound id"), validators=[Optional(), Length(max=10)])
    flow = StringField(_l("3x-ui client flow (optional, e.g. xtls-rprx-vision)"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save"))

    def validate_proxies(self, field):
        _json_object(field)

    def validate_inbounds(self, field):
        _json_object(field)

    def options(self) -> dict:
        return {"proxies": _parsed(self.proxies.data), "inbounds": _parsed(self.inbounds.data),
                "group_ids": [g.strip() for g in (self.group_ids.data or "").split(",") if g.strip()],
                "squads": (self.squads.data or "").split(), "inbound_id": (self.inbound_id.data or "").strip(),
                "flow": (self.flow.data or "").strip()}

    def fill(self, options: dict) -> None:
        self.proxies.data = json.dumps(options["proxies"]) if options.get("proxies") else ""
        self.inbounds.data = json.dumps(options["inbounds"]) if options.get("inbounds") else ""
        self.group_ids.data = ", ".join(str(g) for g in options.get("group_ids") or [])
        self.squads.data = "\n".join(options.get("squads") or [])
        self.inbound_id.data = str(options.get("inbound_id") or "")
        self.flow.data = options.get("flow") or ""


def _parsed(text: str | None):
    return json.loads(text) if (text or "").strip() else None


def _json_object(field) -> None:
    if not (field.data or "").strip():
        return
    try:
        value = json.loads(field.data)
    except ValueError:
        raise ValidationError(_l("This is not valid JSON.")) from None
    if not isinstance(value, dict):
        raise ValidationError(_l("This must be a JSON object."))

"""Dashboard forms generated from the settings declarations (tenant, bot and platform pages share them)."""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField, widgets

from app.extensions import db
from app.services import settings
from app.services.settings_declared import LANGUAGE_LABELS, LANGUAGES, XP_SOURCE_LABELS, Kind, Setting

LIST_KINDS = (Kind.INT_LIST, Kind.LEVELS, Kind.CHAT_IDS)
COMMON_ZONES = ("Asia/Tehran", "UTC", "Asia/Dubai", "Europe/Istanbul", "Asia/Kabul", "Europe/Moscow",
                "Europe/Berlin", "Europe/London", "America/New_York", "America/Toronto")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def build_form(specs: list[Setting], target, formdata=None) -> FlaskForm:
    """A form with one field per declared setting (three for a per-language text), filled with current values."""
    class SettingsForm(FlaskForm):
        submit = SubmitField(_l("Save settings"))

    for spec in specs:
        for name, field in _fields(spec):
            setattr(SettingsForm, name, field)
    current = {spec.key: settings.get(target, spec.key) for spec in specs}
    data = {name: value for spec in specs for name, value in _display(spec, current[spec.key])}
    return SettingsForm(formdata=formdata, data=data) if formdata is not None else SettingsForm(data=data)


def field_names(spec: Setting) -> list[str]:
    return [f"{spec.key}_{lang}" for lang in LANGUAGES] if spec.kind == Kind.LOCALIZED_TEXT else [spec.key]


def raw_values(form: FlaskForm, specs: list[Setting]) -> dict[str, Any]:
    """What the owner typed, per setting key, for settings.update to validate."""
    result = {}
    for spec in specs:
        if spec.kind == Kind.LOCALIZED_TEXT:
            result[spec.key] = {lang: form[f"{spec.key}_{lang}"].data or "" for lang in LANGUAGES}
            if not any(result[spec.key].values()):
                result[spec.key] = None
        else:
            result[spec.key] = form[spec.key].data
    return result


def save_settings(target, form: FlaskForm, specs: list[Setting], by) -> dict | None:
    """The view's commit boundary for a settings form: the changed values, or None with errors at the fields."""
    try:
        changed = settings.update(target, raw_values(form, specs), by=by)
        db.session.commit()
        return changed
    except settings.SettingsInvalid as err:
        db.session.rollback()
        show_errors(form, err.errors)
        return None


def show_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    for key, message in errors.items():
        name = field_names(settings.spec(key))[0] if key in settings.REGISTRY else None
        if name and name in form:
            form[name].errors = list(form[name].errors) + [message]


def _fields(spec: Setting):
    label, help_text = spec.label, spec.help
    if spec.kind == Kind.LOCALIZED_TEXT:
        for lang in LANGUAGES:
            yield f"{spec.key}_{lang}", TextAreaField(f"{label} ({LANGUAGE_LABELS[lang]})", description=help_text)
    elif spec.kind == Kind.BOOL:
        yield spec.key, BooleanField(label, description=help_text)
    elif spec.kind == Kind.CHOICE:
        yield spec.key, SelectField(label, description=help_text, choices=[(c, _choice_label(c)) for c in spec.choices])
    elif spec.kind == Kind.CHOICES:
        yield spec.key, MultiCheckboxField(label, description=help_text,
                                           choices=[(c, XP_SOURCE_LABELS.get(c, c)) for c in spec.choices])
    elif spec.kind == Kind.TIMEZONE:
        others = sorted(available_timezones() - set(COMMON_ZONES))
        yield spec.key, SelectField(label, description=help_text, choices=list(COMMON_ZONES) + others)
    elif spec.kind == Kind.TEXT and (spec.max_length or 0) > 200:
        yield spec.key, TextAreaField(label, description=help_text)
    else:
        yield spec.key, StringField(label, description=help_text)


def _choice_label(value: str):
    return LANGUAGE_LABELS.get(value, value)


def _display(spec: Setting, value):
    if spec.kind == Kind.LOCALIZED_TEXT:
        texts = value if isinstance(value, dict) else {lang: value or "" for lang in LANGUAGES[:1]}
        for lang in LANGUAGES:
            yield f"{spec.key}_{lang}", texts.get(lang, "")
    elif spec.kind in LIST_KINDS:
        yield spec.key, ", ".join(str(v) for v in value or [])
    elif spec.kind == Kind.INT:
        yield spec.key, str(value)
    else:
        yield spec.key, value

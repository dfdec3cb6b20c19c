"""Form fields shared by the dashboard areas."""
from __future__ import annotations

import re
from datetime import date

import jdatetime
from flask_babel import lazy_gettext as _l
from wtforms import StringField, ValidationError

from app.error_texts import error_message
from app.i18n import current_language
from app.services.amounts import ascii_digits, parse_amount
from app.services.errors import DomainError
from app.services.parsing import MAX_DAY, MIN_DAY, check_day


class TomanField(StringField):
    """A whole number of Toman; accepts separators and Persian digits (1,250,000 or ۱۲۵۰۰۰۰)."""

    def __init__(self, label=None, validators=None, optional=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.optional = optional

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        try:
            self.data = parse_amount(self.raw)
        except DomainError as err:
            raise ValueError(error_message(err)) from None

    def pre_validate(self, form):
        if self.data is None and not self.optional and not self.process_errors:
            raise ValidationError(_l("Enter an amount in Toman."))

    def _value(self):
        return getattr(self, "raw", None) or (str(self.data) if self.data is not None else "")


class SaneDay:
    """A date between parsing.MIN_DAY and MAX_DAY: a typo such as 9999-12-31 is refused, never overflowed."""

    def __call__(self, form, field):
        try:
            check_day(field.data)
        except DomainError:
            raise ValidationError(_l("Choose a date between %(first)s and %(last)s.",
                                     first=MIN_DAY.isoformat(), last=MAX_DAY.isoformat())) from None


_DAY = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")


class JalaliDateField(StringField):
    """A day typed as a Jalali date (1403/01/15, Persian digits too) or a Gregorian one (2024-04-03).

    Years before 1700 are Jalali. Persian pages show the value in Jalali, English pages in ISO.
    """

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        match = _DAY.match(ascii_digits(self.raw))
        try:
            year, month, day = (int(part) for part in match.groups())
            self.data = (jdatetime.date(year, month, day).togregorian() if year < 1700
                         else date(year, month, day))
        except (AttributeError, ValueError, OverflowError):
            raise ValueError(_l("Enter a date like 1403/01/15.")) from None

    def _value(self):
        if getattr(self, "raw", None):
            return self.raw
        if self.data is None:
            return ""
        if current_language() == "fa":
            return jdatetime.date.fromgregorian(date=self.data).strftime("%Y/%m/%d")
        return self.data.isoformat()

"""Date filters take the Jalali dates every page shows (Persian digits too), and Gregorian ones."""
from __future__ import annotations

from datetime import date

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from app.forms_common import JalaliDateField, SaneDay


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    day_from = JalaliDateField("From", validators=[SaneDay()])


@pytest.mark.parametrize("typed,day", [("1403/01/01", date(2024, 3, 20)), ("۱۴۰۳/۰۱/۰۱", date(2024, 3, 20)),
                                       ("1405-9-9", date(2026, 11, 30)), ("2024-03-20", date(2024, 3, 20))])
def test_a_jalali_or_gregorian_day_is_read(app, typed, day):
    with app.test_request_context():
        form = FilterForm(formdata=MultiDict({"day_from": typed}))
        assert form.validate() and form.day_from.data == day


@pytest.mark.parametrize("typed", ["1403/13/01", "yesterday", "1403/02", "9999-12-31"])
def test_a_bad_day_is_refused_with_a_message(app, typed):
    with app.test_request_context():
        form = FilterForm(formdata=MultiDict({"day_from": typed}))
        assert not form.validate() and form.day_from.errors


def test_a_persian_page_shows_the_filter_day_in_jalali(client, make, auth):
    owner = make.account()
    make.tenant(owner=owner)
    auth.use_language("fa")
    auth.login(owner.email)
    page = client.get("/receipts/history?day_from=2024-03-20").get_data(as_text=True)
    assert client.get("/receipts/history?day_from=1403/01/01").status_code == 200
    assert 'value="2024-03-20"' in page     # what was typed stays as typed
    with client.application.test_request_context():
        from flask import session
        session["lang"] = "fa"
        form = FilterForm(data={"day_from": date(2024, 3, 20)})
        assert form.day_from._value() == "1403/01/01"


def test_the_audit_log_filters_by_jalali_days_and_says_what_is_wrong(client, make, auth, db):
    from datetime import UTC, datetime

    from app.models import AuditLog

    owner = make.account()
    tenant = make.tenant(owner=owner, timezone="Asia/Tehran")
    for action, moment in (("old.thing", datetime(2024, 3, 18, 12, tzinfo=UTC)),
                           ("new.thing", datetime(2024, 3, 20, 12, tzinfo=UTC))):
        db.session.add(AuditLog(tenant_id=tenant.id, actor="system", action=action, created_at=moment))
    db.session.commit()
    auth.use_language("en")
    auth.login(owner.email)
    page = client.get("/audit/?day_from=۱۴۰۳/۰۱/۰۱&day_to=1403/01/01").get_data(as_text=True)
    assert "new.thing" in page and "old.thing" not in page
    page = client.get("/audit/?day_from=1403/13/01").get_data(as_text=True)
    assert "Enter a date like 1403/01/15." in page and "old.thing" in page   # a bad day filters nothing

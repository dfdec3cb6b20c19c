"""The layout: local Bootstrap, Persian right-to-left by default, the language switch, the filters."""
from datetime import UTC, date, datetime, timezone
from pathlib import Path

import pytest

from app.i18n import format_date, format_datetime, format_toman
from tests.helpers import csrf_token

RTL_CSS = Path(__file__).resolve().parent.parent / "static/vendor/bootstrap/bootstrap.rtl.min.css"


def test_persian_is_the_default_and_right_to_left(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert "vendor/bootstrap/bootstrap.rtl.min.css" in page and "ورود" in page


def test_no_asset_comes_from_a_cdn(client):
    page = client.get("/login").get_data(as_text=True)
    assert "cdn." not in page and "https://" not in page
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_vendored_rtl_css_matches_the_served_bootstrap_version(client, app):
    assert f"Bootstrap  v{app.extensions['bootstrap'].bootstrap_version}" in RTL_CSS.read_text()[:200]
    assert client.get("/static/vendor/bootstrap/bootstrap.rtl.min.css").status_code == 200


def test_language_switch_is_remembered_on_the_account(client, make, auth):
    account = make.account()
    auth.login(account.email)
    token = csrf_token(client.get("/account/password"))
    client.post("/language", data={"language": "en", "csrf_token": token, "next": "/account/password"})
    page = client.get("/account/password").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Change password" in page
    make.db.session.refresh(account)
    assert account.language == "en"


def test_unknown_language_is_refused(client):
    token = csrf_token(client.get("/login"))
    assert client.post("/language", data={"language": "xx", "csrf_token": token}).status_code == 400


def test_filters_in_persian_and_english(app):
    moment = datetime(2024, 3, 20, 20, 30, tzinfo=UTC)  # 21 March 00:00 in Tehran (UTC+3:30)
    with app.test_request_context():
        # Persian pages show Persian digits unless the tenant turns the `persian_digits` setting off
        assert format_toman(1250000) == "۱٬۲۵۰٬۰۰۰ تومان"
        assert format_date(date(2024, 3, 20)) == "۱۴۰۳/۰۱/۰۱"  # Nowruz
        assert format_datetime(moment) == "۱۴۰۳/۰۱/۰۲ ۰۰:۰۰"
    with app.test_request_context(headers={}):
        from flask import session
        session["lang"] = "en"
        assert format_toman(1250000) == "1,250,000 Toman"
        assert format_datetime(moment) == "2024-03-21 00:00"

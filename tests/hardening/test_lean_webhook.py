"""Telegram's webhook is a lean endpoint (app/__init__.py): none of the dashboard's request hooks run for it
(CSRF, Flask-Limiter and its teardown, the input guard, the layout's caches, the remember cookie, the session's
save), but its responses, error pages included, carry the same security headers; every other route keeps every
hook."""
import pytest

from app import create_app
from config import TestConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE = {"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000, "text": "/start",
                                      "chat": {"id": 501, "type": "private"}}}
HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


@pytest.fixture
def probed(database_url, db):
    """A fresh app with an app-wide before_request, after_request and teardown_request that record the endpoints they
    ran for."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    ran = []
    app.before_request(lambda: ran.append(("before", _endpoint())))
    app.after_request(lambda response: ran.append(("after", _endpoint())) or response)
    app.teardown_request(lambda _exc: ran.append(("teardown", _endpoint())))
    yield app, ran
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _endpoint():
    from flask import request

    return request.endpoint


@pytest.mark.parametrize("secret", ["wrong", None])
def test_the_webhook_runs_no_request_hooks_and_keeps_the_security_headers(probed, make, make_bot, secret):
    app, ran = probed
    bot = make_bot(make.tenant())
    dashboard = app.test_client().get("/login")
    assert ran == [("before", "auth.login"), ("after", "auth.login"), ("teardown", "auth.login")]
    assert "Set-Cookie" in dashboard.headers
    ran.clear()
    client = app.test_client()
    client.set_cookie("session", "not-a-signed-session")  # an unreadable cookie is not even looked at
    refused = client.post(f"/tg/{bot.id}", json=UPDATE, headers={SECRET_HEADER: secret} if secret else {})
    missing = client.post("/tg/999999", json=UPDATE, headers={SECRET_HEADER: "x"})
    assert (refused.status_code, missing.status_code) == (403, 404)
    assert ran == []
    for response in (refused, missing):
        assert {name: response.headers.get(name) for name in HEADERS} == \
            {name: dashboard.headers[name] for name in HEADERS}
        assert "Set-Cookie" not in response.headers and "X-RateLimit-Limit" not in response.headers


def test_after_this_request_still_runs_on_a_lean_endpoint(probed):
    from flask import after_this_request

    app, _ran = probed
    app.lean_endpoints.add("probe")

    @app.get("/probe", endpoint="probe")
    def probe():
        after_this_request(lambda response: response.headers.set("X-Probe", "1") or response)
        return "ok"

    response = app.test_client().get("/probe")
    assert response.headers["X-Probe"] == "1" and response.headers["X-Frame-Options"] == "DENY"


def test_other_routes_keep_csrf_the_input_guard_and_the_session(client, make):
    assert any(c.startswith("session=") for c in client.get("/login").headers.getlist("Set-Cookie"))
    account = make.account(password="correct-horse-42")
    no_token = client.post("/login", data={"email": account.email, "password": "correct-horse-42"})
    assert no_token.status_code == 400 and "CSRF token" in no_token.get_data(as_text=True)
    assert client.get("/login?next=%00").status_code == 400

"""Telegram's webhook is served ahead of Flask's request dispatch (app/webhooks): none of the dashboard's request
hooks run for it (CSRF, Flask-Limiter and its teardown, the input guard, the layout's caches, the remember cookie,
the session's save), but its responses, refusals included, carry the same security headers; every other request,
other methods and paths under /tg/ included, goes through Flask with every hook."""
import pytest

from app import create_app
from config import TestConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE = {"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000, "text": "/start",
                                      "chat": {"id": 501, "type": "private"}}}
HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


@pytest.fixture
def probed(database_url, db):
    """A fresh app with an app-wide before_request, after_request and teardown_request that record the paths they
    ran for."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    ran = []
    app.before_request(lambda: ran.append(("before", _path())))
    app.after_request(lambda response: ran.append(("after", _path())) or response)
    app.teardown_request(lambda _exc: ran.append(("teardown", _path())))
    yield app, ran
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _path():
    from flask import request

    return request.path


@pytest.mark.parametrize("secret", ["wrong", None])
def test_the_webhook_runs_no_request_hooks_and_keeps_the_security_headers(probed, make, make_bot, secret):
    app, ran = probed
    bot = make_bot(make.tenant())
    dashboard = app.test_client().get("/login")
    assert ran == [("before", "/login"), ("after", "/login"), ("teardown", "/login")]
    assert "Set-Cookie" in dashboard.headers
    client = app.test_client()
    client.post("/tg/0")  # Talisman works out the webhook's headers once per scheme, in a request context of theirs
    ran.clear()
    client.set_cookie("session", "not-a-signed-session")  # an unreadable cookie is not even looked at
    refused = client.post(f"/tg/{bot.id}", json=UPDATE, headers={SECRET_HEADER: secret} if secret else {})
    missing = client.post("/tg/999999", json=UPDATE, headers={SECRET_HEADER: "x"})
    unreadable = client.post(f"/tg/{bot.id}", data=b"{", content_type="application/json",
                             headers={SECRET_HEADER: bot.webhook_secret})
    assert (refused.status_code, missing.status_code, unreadable.status_code) == (403, 404, 400)
    assert ran == []
    for response in (refused, missing, unreadable):
        assert {name: response.headers.get(name) for name in HEADERS} == \
            {name: dashboard.headers[name] for name in HEADERS}
        assert "Set-Cookie" not in response.headers and "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize(("method", "path"), [("GET", "/tg/1"), ("POST", "/tg/1/"), ("POST", "/tg/x")])
def test_other_requests_under_tg_go_through_flask(probed, method, path):
    app, ran = probed
    response = app.test_client().open(path, method=method)
    assert response.status_code in (404, 405) and [step for step, _path in ran] == ["before", "after", "teardown"]


def test_other_routes_keep_csrf_the_input_guard_and_the_session(client, make):
    assert any(c.startswith("session=") for c in client.get("/login").headers.getlist("Set-Cookie"))
    account = make.account(password="correct-horse-42")
    no_token = client.post("/login", data={"email": account.email, "password": "correct-horse-42"})
    assert no_token.status_code == 400 and "CSRF token" in no_token.get_data(as_text=True)
    assert client.get("/login?next=%00").status_code == 400

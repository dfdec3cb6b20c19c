from app.services import demo
from tests.helpers import csrf_token


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_login_lands_on_a_page_naming_account_and_tenant(client, runner, auth):
    runner.invoke(args=["seed-demo"])
    auth.use_language("en")
    token = csrf_token(client.get("/login"))
    response = client.post("/login", data={"email": "DEMO@botfleet.local", "password": demo.DEMO_PASSWORD,
                                           "csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert demo.DEMO_EMAIL in page and "Demo VPN" in page and "owner" in page


def test_wrong_password_is_refused_with_a_message(client, make, auth):
    account = make.account()
    auth.use_language("en")
    response = auth.login(account.email, "not-the-password", follow_redirects=True)
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client, make):
    account = make.account()
    response = client.post("/login", data={"email": account.email, "password": "correct-horse-42"})
    assert response.status_code == 400 and "CSRF token" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_next_parameter_cannot_redirect_off_site(client, make):
    account = make.account()
    token = csrf_token(client.get("/login"))
    response = client.post("/login?next=//evil.example/x", data={
        "email": account.email, "password": "correct-horse-42", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_logout_is_a_post_with_csrf(client, make, auth):
    account = make.account()
    auth.login(account.email)
    assert client.get("/logout").status_code == 405
    auth.logout()
    assert client.get("/").status_code == 302

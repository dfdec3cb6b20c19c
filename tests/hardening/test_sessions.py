"""Issue 14 item 8 (sessions): signing out or changing the password ends every other session of the account
(a copied session or remember cookie stops working); an unknown email costs a password hash like a known one."""
from app.models import tenancy
from app.services import auth as auth_service
from tests.factories import PASSWORD, AuthActions
from tests.helpers import csrf_token


def signed_in_client(app, email, remember=False):
    client = app.test_client()
    token = csrf_token(client.get("/login"))
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def browser_with(app, name, value):
    """Another browser holding a copied cookie (a stolen session)."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def test_signing_out_ends_a_copied_session(app, make):
    account = make.account()
    owner = signed_in_client(app, account.email)
    stolen = owner.get_cookie("session").value
    assert is_signed_in(browser_with(app, "session", stolen))
    AuthActions(owner).logout()
    assert not is_signed_in(owner) and not is_signed_in(browser_with(app, "session", stolen))


def test_signing_out_ends_a_copied_remember_cookie(app, make):
    account = make.account()
    owner = signed_in_client(app, account.email, remember=True)
    stolen = owner.get_cookie("remember_token").value
    assert is_signed_in(browser_with(app, "remember_token", stolen))
    AuthActions(owner).logout()
    assert not is_signed_in(browser_with(app, "remember_token", stolen))


def test_a_password_change_ends_other_sessions_but_keeps_this_one(app, make):
    account = make.account()
    owner, other = signed_in_client(app, account.email), signed_in_client(app, account.email)
    token = csrf_token(owner.get("/account/password"))
    response = owner.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                      "new_password": "a-new-long-password", "confirm": "a-new-long-password"})
    assert response.status_code == 302
    assert is_signed_in(owner) and not is_signed_in(other)


def test_an_old_style_session_id_without_a_version_is_signed_out(app, make):
    account = make.account()
    client = signed_in_client(app, account.email)
    with client.session_transaction() as session:
        session["_user_id"] = str(account.id)
    assert not is_signed_in(client)


def test_known_and_unknown_emails_both_cost_a_password_hash(db, make, monkeypatch):
    make.account("known@example.com")
    checked = []
    for module in (tenancy, auth_service):
        real = module.check_password_hash
        monkeypatch.setattr(module, "check_password_hash", lambda h, p, real=real: checked.append(h) or real(h, p))
    assert auth_service.sign_in("known@example.com", "wrong", "192.0.2.1") is None
    assert auth_service.sign_in("nobody@example.com", "wrong", "192.0.2.1") is None
    assert len(checked) == 2 and checked[0].split("$")[0] == checked[1].split("$")[0]

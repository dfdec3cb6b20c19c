"""Issue 14 item 3: sign-in's `next` and /language's `next` never leave the site."""
import pytest

from tests.factories import PASSWORD
from tests.helpers import csrf_token

#: Decoded values of `next`; each would leave the site in some browser if echoed into Location.
ESCAPES = ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example",
           "/\r\n/evil.example", "///evil.example", "/ /evil.example", "javascript:alert(1)", "/\x0b/evil.example",
           "/\\/evil.example", "http:/evil.example", "/\u3000/evil.example"]
#: The same attack as sent raw in the query string (the issue's reproduction was the first one).
RAW_ESCAPES = ["/%09/evil.example", "/%0a/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example"]


def location_after_login(client, account, next_value: str, raw: bool) -> str:
    token = csrf_token(client.get("/login"))
    url = f"/login?next={next_value}" if raw else "/login"
    query = None if raw else {"next": next_value}
    response = client.post(url, query_string=query,
                           data={"csrf_token": token, "email": account.email, "password": PASSWORD})
    if response.status_code == 400:  # control characters are refused before any view (app/input_guard.py)
        return ""
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("target,raw", [(t, False) for t in ESCAPES] + [(t, True) for t in RAW_ESCAPES])
def test_login_next_stays_on_the_site(client, make, target, raw):
    account = make.account()
    location = location_after_login(client, account, target, raw=raw)
    assert "evil" not in location and not location.startswith("//"), location
    assert not location.lower().startswith("javascript")


def test_login_next_keeps_a_local_path(client, make):
    account = make.account()
    assert location_after_login(client, account, "/members/?q=a", raw=False) == "/members/?q=a"


@pytest.mark.parametrize("target", ESCAPES)
def test_language_next_stays_on_the_site(client, target):
    token = csrf_token(client.get("/login"))
    data = {"csrf_token": token, "language": "en", "next": target}
    response = client.post("/language", data=data)
    assert response.status_code in (302, 400)
    assert "evil" not in response.headers.get("Location", ""), response.headers["Location"]

"""Issue 14 item 4: sign-in throttling per account and address, per address, per account; nobody can lock the
owner out of their usual address, and parallel guesses check no more passwords than the limit allows."""
import os
import threading

import pytest
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.models import tenancy
from app.services import login_throttle
from tests.factories import PASSWORD
from tests.helpers import csrf_token

OWNER_ADDRESS, ATTACKER = "198.51.100.2", "203.0.113.9"


def sign_in(client, email, password=PASSWORD, address=OWNER_ADDRESS):
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client.get("/login"))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in(response) -> bool:
    return response.status_code == 302


@pytest.fixture
def limits(app, monkeypatch):
    """Set one rule's limit for this test (TestConfig raises the per-address and per-account ones)."""
    return lambda name, value: monkeypatch.setitem(app.config, f"LOGIN_RATE_LIMIT_{name}", value)


@pytest.fixture
def password_checks(monkeypatch):
    """Every password hash compared, known accounts and unknown emails alike."""
    checked, lock, real = [], threading.Lock(), tenancy.check_password_hash

    def counting(hashed, password):
        with lock:
            checked.append(password)
        return real(hashed, password)
    monkeypatch.setattr(tenancy, "check_password_hash", counting)
    from app.services import auth
    monkeypatch.setattr(auth, "check_password_hash", counting)
    return checked


def test_five_guesses_then_refused_without_checking_the_password(app, make, password_checks):
    account, client = make.account(), app.test_client()
    for _ in range(5):
        assert not signed_in(sign_in(client, account.email, "wrong-password"))
    response = sign_in(client, account.email)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 60
    assert len(password_checks) == 5


def test_guesses_from_elsewhere_never_lock_the_owners_address(app, make):
    account, attacker, owner = make.account(), app.test_client(), app.test_client()
    for _ in range(8):
        sign_in(attacker, account.email, "wrong-password", address=ATTACKER)
    assert sign_in(attacker, account.email, address=ATTACKER).status_code == 429
    assert signed_in(sign_in(owner, account.email))


def test_a_success_forgets_the_owners_own_mistakes(app, make):
    account, client = make.account(), app.test_client()
    for _ in range(4):
        sign_in(client, account.email, "wrong-password")
    assert signed_in(sign_in(client, account.email))
    client = app.test_client()  # signed out again
    for _ in range(4):
        sign_in(client, account.email, "wrong-password")
    assert signed_in(sign_in(client, account.email))


def test_one_address_trying_many_accounts_is_slowed(app, make, limits):
    limits("ADDRESS", "3 per minute")
    client = app.test_client()
    for n in range(3):
        sign_in(client, f"guess{n}@example.com", address=ATTACKER)
    assert sign_in(client, make.account().email, address=ATTACKER).status_code == 429
    assert signed_in(sign_in(app.test_client(), make.account().email))


def test_the_account_ceiling_spares_the_address_the_owner_last_signed_in_from(app, make, limits, db):
    limits("ACCOUNT", "3 per hour")
    account = make.account()
    assert signed_in(sign_in(app.test_client(), account.email))  # the usual address is now known
    db.session.commit()
    for n in range(3):
        sign_in(app.test_client(), account.email, "wrong-password", address=f"203.0.113.{20 + n}")
    assert sign_in(app.test_client(), account.email, address="203.0.113.99").status_code == 429
    assert signed_in(sign_in(app.test_client(), account.email))


def test_the_refusal_is_translated(app, make):
    account, client = make.account(), app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    for _ in range(5):
        sign_in(client, account.email, "wrong-password")
    assert "Too many sign-in attempts" in sign_in(client, account.email).get_data(as_text=True)
    with client.session_transaction() as session:
        session["lang"] = "fa"
    page = sign_in(client, account.email).get_data(as_text=True)
    assert "Too many sign-in attempts" not in page and "دقیقه" in page


class DownStorage(MemoryStorage):
    """A shared storage that does not answer (Redis down)."""

    def acquire_entry(self, *args, **kwargs):
        raise ConnectionError("storage down")

    def clear(self, key):
        raise ConnectionError("storage down")


def test_with_the_shared_storage_down_sign_in_works_and_stays_throttled(app, make, monkeypatch):
    monkeypatch.setitem(app.extensions, login_throttle.EXTENSION, MovingWindowRateLimiter(DownStorage()))
    account, client = make.account(), app.test_client()
    assert signed_in(sign_in(client, account.email))
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, account.email, "wrong-password").status_code == 200
    assert sign_in(client, account.email).status_code == 429


def guess_in_parallel(app, email: str, n: int) -> list[int]:
    clients = [app.test_client() for _ in range(n)]
    tokens = []
    for client in clients:
        client.environ_base["REMOTE_ADDR"] = ATTACKER
        tokens.append(csrf_token(client.get("/login")))
    barrier, statuses = threading.Barrier(n), []

    def guess(client, token):
        barrier.wait()
        statuses.append(client.post("/login", data={"email": email, "password": "wrong-password",
                                                    "csrf_token": token}).status_code)
    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture(params=["memory", "redis"])
def storage(request, app, monkeypatch):
    """The throttle's storage: this process's memory, or Redis as with REDIS_URL (skipped when none answers)."""
    if request.param == "memory":
        yield
        return
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    storage = storage_from_string(url)
    if not storage.check():
        pytest.skip(f"no Redis at {url}")
    monkeypatch.setitem(app.extensions, login_throttle.EXTENSION, MovingWindowRateLimiter(storage))
    yield
    storage.reset()


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_thirty_parallel_guesses_check_at_most_five_passwords(app, db, make, password_checks, storage):
    account = make.account()
    db.session.commit()
    statuses = guess_in_parallel(app, account.email, 30)
    assert len(password_checks) == 5
    assert sorted(statuses) == [200] * 5 + [429] * 25

"""The sandbox's Zarinpal side answers with Zarinpal v4's shapes and codes."""
from __future__ import annotations

import requests

MERCHANT = "1a2b3c4d-0000-4000-8000-00000000abcd"


def post(sandbox, endpoint, **body):
    return requests.post(f"{sandbox.url}/pg/v4/payment/{endpoint}", json=body, timeout=10)


def request(sandbox, amount=100_000, **extra):
    body = dict(merchant_id=MERCHANT, amount=amount, description="Gold plan",
                callback_url="http://shop.test/back?x=1") | extra
    return post(sandbox, "request.json", **body)


def pay(sandbox, authority, action="pay"):
    return requests.post(f"{sandbox.url}/pg/StartPay/{authority}", data={"action": action},
                         allow_redirects=False, timeout=10)


def test_request_startpay_verify_100_then_101_and_unverified(sandbox):
    answer = request(sandbox, metadata={"order_id": "ZP-1"}).json()
    assert answer["errors"] == [] and answer["data"]["code"] == 100
    authority = answer["data"]["authority"]
    assert len(authority) == 36 and authority.startswith("A")
    page = requests.get(f"{sandbox.url}/pg/StartPay/{authority}", timeout=10)
    assert page.status_code == 200 and "id='pay'" in page.text and "id='cancel'" in page.text
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority=authority,
                amount=100_000).json()["errors"]["code"] == -51  # not paid yet
    back = pay(sandbox, authority)
    assert back.status_code == 302
    assert back.headers["Location"] == f"http://shop.test/back?x=1&Authority={authority}&Status=OK"
    listed = post(sandbox, "unVerified.json", merchant_id=MERCHANT).json()["data"]
    assert [(a["authority"], a["amount"]) for a in listed["authorities"]] == [(authority, 100_000)]
    first = post(sandbox, "verify.json", merchant_id=MERCHANT, authority=authority, amount=100_000).json()["data"]
    again = post(sandbox, "verify.json", merchant_id=MERCHANT, authority=authority, amount=100_000).json()["data"]
    assert (first["code"], again["code"]) == (100, 101) and first["ref_id"] == again["ref_id"]
    assert first["card_pan"] and first["card_hash"]
    assert post(sandbox, "unVerified.json", merchant_id=MERCHANT).json()["data"]["authorities"] == []


def test_refusals_use_zarinpal_codes(sandbox):
    assert request(sandbox, amount=500).json()["errors"]["code"] == -9
    assert request(sandbox, callback_url="").json()["errors"]["code"] == -9
    assert request(sandbox, merchant_id="nope").json()["errors"]["code"] == -10
    authority = request(sandbox).json()["data"]["authority"]
    pay(sandbox, authority)
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority=authority,
                amount=90_000).json()["errors"]["code"] == -50
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority="A" + "9" * 35,
                amount=100_000).json()["errors"]["code"] == -54
    cancelled = request(sandbox).json()["data"]["authority"]
    assert pay(sandbox, cancelled, "cancel").headers["Location"].endswith("Status=NOK")
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority=cancelled,
                amount=100_000).json()["errors"]["code"] == -51


def test_currency_irt_is_toman(sandbox):
    authority = request(sandbox, amount=10_000, currency="IRT").json()["data"]["authority"]
    pay(sandbox, authority)
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority=authority,
                amount=100_000).json()["data"]["code"] == 100


def test_faults_answer_the_armed_code_count_times(sandbox):
    armed = requests.post(f"{sandbox.url}/sandbox/zarinpal/faults",
                          json={"endpoint": "request", "code": -11, "count": 2}, timeout=10)
    assert armed.json() == {"ok": True}
    assert [request(sandbox).json()["errors"]["code"] for _ in range(2)] == [-11, -11]
    assert request(sandbox).json()["data"]["code"] == 100
    requests.post(f"{sandbox.url}/sandbox/zarinpal/faults", json={"endpoint": "verify", "code": 503}, timeout=10)
    assert post(sandbox, "verify.json", merchant_id=MERCHANT, authority="x", amount=1).status_code == 503
    bad = requests.post(f"{sandbox.url}/sandbox/zarinpal/faults", json={"endpoint": "nope", "code": 1}, timeout=10)
    assert bad.status_code == 400

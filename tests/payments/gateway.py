"""A client for the sandbox's Zarinpal side: pay or cancel on StartPay as a browser would, arm faults."""
from __future__ import annotations

from urllib.parse import urlsplit

import requests

MERCHANT = "1a2b3c4d-0000-4000-8000-00000000abcd"
PLATFORM_MERCHANT = "9f8e7d6c-1111-4111-8111-00000000beef"


class Gateway:
    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def press(self, authority: str, action: str = "pay") -> str:
        """Press Pay or Cancel on the StartPay page; the callback path+query the browser is sent to."""
        page = self.http.get(f"{self.url}/pg/StartPay/{authority}", timeout=10)
        assert page.status_code == 200 and "id='pay'" in page.text
        answer = self.http.post(f"{self.url}/pg/StartPay/{authority}", data={"action": action},
                                allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["Location"])
        return f"{location.path}?{location.query}"

    def fault(self, endpoint: str, code: int, count: int = 1) -> None:
        answer = self.http.post(f"{self.url}/sandbox/zarinpal/faults",
                                json={"endpoint": endpoint, "code": code, "count": count}, timeout=10)
        assert answer.status_code == 200, answer.text

    def verify(self, authority: str, amount_rial: int, merchant: str = MERCHANT) -> dict:
        return self.http.post(f"{self.url}/pg/v4/payment/verify.json", timeout=10, json={
            "merchant_id": merchant, "authority": authority, "amount": amount_rial}).json()

    def payments(self) -> list[dict]:
        return self.http.get(f"{self.url}/sandbox/zarinpal/payments", timeout=10).json()["payments"]

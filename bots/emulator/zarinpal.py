"""The sandbox's Zarinpal side: the REST v4 payment gateway, with a StartPay page a person (or a test) pays on.

Shapes follow Zarinpal's v4 documentation: every answer is JSON `{"data": ..., "errors": ...}`; success puts
`code` 100 (or 101, "already verified") in `data` and `[]` in `errors`; a refusal puts
`{"code", "message", "validations"}` in `errors` and `[]` in `data`. Amounts are Rial unless the request
said `currency: "IRT"`. Self-contained: imports nothing of Botfleet.

    POST /pg/v4/payment/request.json      {merchant_id, amount, description, callback_url, metadata?, currency?}
    GET  /pg/StartPay/<authority>         a page with Pay and Cancel
    POST /pg/StartPay/<authority>         form field action=pay|cancel → 302 to callback_url?Authority=..&Status=OK|NOK
    POST /pg/v4/payment/verify.json       {merchant_id, authority, amount} → 100, then 101 for the same authority
    POST /pg/v4/payment/unVerified.json   {merchant_id} → paid, not yet verified payments of that merchant
    POST /sandbox/zarinpal/faults         {endpoint: request|verify|unverified, code, count}
    GET  /sandbox/zarinpal/payments       every payment the sandbox holds (for tests and people)
    POST /sandbox/zarinpal/reset          forget every payment and fault
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug import Response
from werkzeug.routing import Rule

MERCHANT_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Zarinpal refuses less than 1,000 Toman (10,000 Rial).
MIN_RIAL = 10_000
MAX_RIAL = 2_000_000_000
MESSAGES = {
    100: "Success", 101: "Verified",
    -9: "The input params invalid, validation error.",
    -10: "Terminal is not valid, please check merchant_id or ip address.",
    -11: "Terminal is not active, please contact our support team.",
    -12: "To many attempts, please try again later.",
    -50: "Session is not valid, amounts values is not the same.",
    -51: "Session is not valid, session is not active paid try.",
    -54: "Invalid authority.",
}
ENDPOINTS = ("request", "verify", "unverified")


@dataclass
class SandboxPayment:
    authority: str
    merchant_id: str
    amount_rial: int
    description: str
    callback_url: str
    metadata: dict
    #: new → paid (Pay pressed) → verified; or new → cancelled.
    status: str = "new"
    ref_id: int | None = None
    card_pan: str = "502229******5995"
    created: float = field(default_factory=time.time)


class ZarinpalSandbox:
    """In-memory gateway state, shared by every request thread under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.payments: dict[str, SandboxPayment] = {}
        self.faults: dict[str, list[int]] = {}
        self._ref_ids = itertools.count(201_000_001)

    def take_fault(self, endpoint: str) -> int | None:
        """The code the next call of `endpoint` must answer, if a fault is armed."""
        fault = self.faults.get(endpoint)
        if not fault:
            return None
        fault[1] -= 1
        if fault[1] <= 0:
            del self.faults[endpoint]
        return fault[0]


def _body(request) -> dict:
    try:
        data = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = request.form.to_dict()
    return data


def _json(payload, status=200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json")


def _ok(**data) -> Response:
    return _json({"data": {"code": data.pop("code", 100), **data}, "errors": []})


def _error(code: int, validations=None) -> Response:
    """A refusal; codes >= 500 are HTTP failures (a gateway outage), not Zarinpal codes."""
    if code >= 500:
        return _json({"message": "Service Unavailable"}, status=code)
    return _json({"data": [], "errors": {"code": code, "message": MESSAGES.get(code, "Error"),
                                         "validations": validations or []}}, status=_http_status(code))


def _http_status(code: int) -> int:
    return {-9: 422, -10: 401, -11: 403, -12: 429}.get(code, 200 if code > 0 else 400)


def _rial(body: dict):
    amount = body.get("amount")
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        return None
    return amount * 10 if str(body.get("currency", "")).upper() == "IRT" else amount


def _merchant_error(body: dict) -> Response | None:
    merchant = str(body.get("merchant_id") or "")
    if not merchant:
        return _error(-9, [{"merchant_id": "The merchant id field is required."}])
    if not MERCHANT_RE.match(merchant):
        return _error(-10)
    return None


def _request_validations(body: dict, amount) -> list:
    problems = []
    if amount is None or not MIN_RIAL <= amount <= MAX_RIAL:
        problems.append({"amount": f"The amount must be between {MIN_RIAL} and {MAX_RIAL} Rial."})
    if not str(body.get("callback_url") or "").startswith(("http://", "https://")):
        problems.append({"callback_url": "The callback url field is required."})
    description = str(body.get("description") or "")
    if not description or len(description) > 500:
        problems.append({"description": "The description field is required (at most 500 characters)."})
    return problems


def payment_request(app, request):
    """POST /pg/v4/payment/request.json → an authority for StartPay."""
    sandbox, body = app.zarinpal, _body(request)
    with sandbox.lock:
        fault = sandbox.take_fault("request")
    if fault is not None:
        return _error(fault)
    refused = _merchant_error(body)
    if refused is not None:
        return refused
    amount = _rial(body)
    problems = _request_validations(body, amount)
    if problems:
        return _error(-9, problems)
    authority = "A" + "".join(secrets.choice("0123456789") for _ in range(35))
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    with sandbox.lock:
        sandbox.payments[authority] = SandboxPayment(
            authority=authority, merchant_id=body["merchant_id"], amount_rial=amount,
            description=str(body["description"]), callback_url=str(body["callback_url"]), metadata=metadata)
    return _ok(message="Success", authority=authority, fee_type="Merchant", fee=0)


def payment_verify(app, request):
    """POST /pg/v4/payment/verify.json: 100 the first time a paid payment is verified, 101 after."""
    sandbox, body = app.zarinpal, _body(request)
    with sandbox.lock:
        fault = sandbox.take_fault("verify")
        if fault is not None:
            return _error(fault)
        refused = _merchant_error(body)
        if refused is not None:
            return refused
        payment = sandbox.payments.get(str(body.get("authority") or ""))
        if payment is None or payment.merchant_id != body["merchant_id"]:
            return _error(-54)
        if _rial(body) != payment.amount_rial:
            return _error(-50)
        if payment.status not in ("paid", "verified"):
            return _error(-51)
        code = 101 if payment.status == "verified" else 100
        payment.status = "verified"
        return _ok(code=code, message=MESSAGES[code], ref_id=payment.ref_id, card_pan=payment.card_pan,
                   card_hash=hashlib.sha256(payment.card_pan.encode()).hexdigest().upper(),
                   fee_type="Merchant", fee=0)


def unverified(app, request):
    """POST /pg/v4/payment/unVerified.json: the merchant's paid payments nobody verified yet."""
    sandbox, body = app.zarinpal, _body(request)
    with sandbox.lock:
        fault = sandbox.take_fault("unverified")
        if fault is not None:
            return _error(fault)
        refused = _merchant_error(body)
        if refused is not None:
            return refused
        rows = [{"authority": p.authority, "amount": p.amount_rial, "callback_url": p.callback_url,
                 "referer": "", "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(p.created))}
                for p in sandbox.payments.values() if p.merchant_id == body["merchant_id"] and p.status == "paid"]
    return _ok(message="Success", authorities=rows)


def start_pay(app, request, authority):
    """GET /pg/StartPay/<authority>: the payment page; POST: Pay or Cancel, then back to the merchant."""
    sandbox = app.zarinpal
    with sandbox.lock:
        payment = sandbox.payments.get(authority)
        if payment is None:
            return _page("تراکنش یافت نشد", "<p>Unknown authority.</p>", status=404)
        if request.method == "POST":
            return _decide(sandbox, payment, request.form.get("action"))
        return _page("درگاه پرداخت آزمایشی زرین‌پال", _payment_form(payment))


def _decide(sandbox, payment: SandboxPayment, action: str | None) -> Response:
    if action == "pay" and payment.status == "new":
        payment.status, payment.ref_id = "paid", next(sandbox._ref_ids)
    elif action == "cancel" and payment.status == "new":
        payment.status = "cancelled"
    status = "OK" if payment.status in ("paid", "verified") else "NOK"
    return Response(status=302, headers={"Location": _with_query(payment.callback_url,
                                                                 Authority=payment.authority, Status=status)})


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _payment_form(payment: SandboxPayment) -> str:
    esc = html.escape
    return (f"<p>مبلغ: <strong id='amount'>{payment.amount_rial:,}</strong> ریال</p>"
            f"<p id='description'>{esc(payment.description)}</p>"
            f"<p>شناسه پرداخت: <code>{esc(payment.authority)}</code></p>"
            f"<form method='post'><button type='submit' name='action' value='pay' id='pay'>پرداخت (Pay)</button> "
            f"<button type='submit' name='action' value='cancel' id='cancel'>انصراف (Cancel)</button></form>"
            f"<p><small>Sandbox: no money moves.</small></p>")


def _page(title: str, body: str, status: int = 200) -> Response:
    page = (f"<!doctype html><html lang='fa' dir='rtl'><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def add_fault(app, request):
    """POST /sandbox/zarinpal/faults {endpoint, code, count}: the next `count` calls answer `code`."""
    body = _body(request)
    endpoint = str(body.get("endpoint") or "").lower().replace(".json", "")
    try:
        code, count = int(body.get("code")), int(body.get("count", 1))
    except (TypeError, ValueError):
        code = count = None
    if endpoint not in ENDPOINTS or code is None or count is None or count < 1:
        return _json({"ok": False, "description": f"endpoint one of {', '.join(ENDPOINTS)}; code and count "
                                                  "whole numbers, count >= 1"}, status=400)
    with app.zarinpal.lock:
        app.zarinpal.faults[endpoint] = [code, count]
    return _json({"ok": True})


def list_payments(app, request):
    """GET /sandbox/zarinpal/payments → {"payments": [...]} (merchant ids shortened)."""
    with app.zarinpal.lock:
        rows = [asdict(p) | {"merchant_id": p.merchant_id[:8] + "…"} for p in app.zarinpal.payments.values()]
    return _json({"payments": rows})


def reset(app, request):
    with app.zarinpal.lock:
        app.zarinpal.reset()
    return _json({"ok": True})


RULES = [
    Rule("/pg/v4/payment/request.json", endpoint=payment_request, methods=["POST"]),
    Rule("/pg/v4/payment/verify.json", endpoint=payment_verify, methods=["POST"]),
    Rule("/pg/v4/payment/unVerified.json", endpoint=unverified, methods=["POST"]),
    Rule("/pg/StartPay/<authority>", endpoint=start_pay, methods=["GET", "POST"]),
    Rule("/sandbox/zarinpal/faults", endpoint=add_fault, methods=["POST"]),
    Rule("/sandbox/zarinpal/payments", endpoint=list_payments, methods=["GET"]),
    Rule("/sandbox/zarinpal/reset", endpoint=reset, methods=["POST"]),
]

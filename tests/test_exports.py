"""CSV exports: every kind streams, starts with a UTF-8 BOM, holds only the tenant's rows, and is formula-safe."""
from __future__ import annotations

import csv
import io
import re

import pytest

from app.services import audit, exports, ledger, receipts
from app.services.receipts import Reviewer
from tests.factories import AuthActions

HOSTILE = {"first_name": '=HYPERLINK("http://evil.example","x")', "username": "@SUM(1+1)", "last_name": "+1-2"}


@pytest.fixture
def owner(client, make, auth):
    account = make.account()
    tenant = make.tenant(owner=account)
    auth.use_language("fa")
    auth.login(account.email)
    return client, tenant, account


def rows_of(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff"), "no BOM: Excel would misread Persian"
    return list(csv.reader(io.StringIO(body[1:])))


def seed(db, make, tenant, account):
    member = make.member(tenant, telegram_id=4242, **HOSTILE)
    make.card(tenant)
    plan = make.plan(tenant, name="-Gold")
    receipt = receipts.open_invoice(member, plan=plan)
    receipts.submit(receipt, text="@ref 9")
    receipts.approve(receipt, Reviewer(account=account))
    ledger.credit_member(member, 5_000, key="t", kind="adjustment", actor="account:1", note="\tbonus")
    audit.record(tenant.id, "account:1", "member.adjust", "member:1", reason="=1+1")
    db.session.commit()
    return member


@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_each_export_streams_the_tenants_rows_with_a_bom(db, make, owner, kind):
    client, tenant, account = owner
    seed(db, make, tenant, account)
    other = make.tenant()
    make.member(other, telegram_id=9999, first_name="Stranger")
    db.session.commit()
    response = client.get(f"/exports/{kind}.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    assert "9999" not in response.get_data(as_text=True) and "Stranger" not in response.get_data(as_text=True)


def test_no_cell_starts_a_formula(db, make, owner):
    client, tenant, account = owner
    seed(db, make, tenant, account)
    for kind in exports.EXPORTS:
        for row in rows_of(client.get(f"/exports/{kind}.csv"))[1:]:
            for cell in row:
                if not re.fullmatch(r"-[0-9]+", cell):          # a negative number is a number, not a formula
                    assert not cell.startswith(exports.FORMULA_START), (kind, cell)
    members = rows_of(client.get("/members/export.csv"))
    assert members[1][1:4] == ["'@SUM(1+1)", "'" + HOSTILE["first_name"], "'+1-2"]


def test_negative_numbers_stay_numbers(db, make, owner):
    client, tenant, account = owner
    member = make.member(tenant, balance=10_000)
    ledger.debit_member(member, 3_000, key="d", kind="adjustment", actor="system")
    db.session.commit()
    amounts = [row[3] for row in rows_of(client.get("/exports/ledger.csv"))[1:]]
    assert "-3000" in amounts


def test_rows_are_read_in_batches_each_once(db, make, owner, monkeypatch):
    client, tenant, _ = owner
    monkeypatch.setattr(exports, "BATCH", 3)
    for n in range(7):
        make.member(tenant, telegram_id=700 + n)
    db.session.commit()
    ids = [row[0] for row in rows_of(client.get("/exports/members.csv"))[1:]]
    assert ids == [str(700 + n) for n in range(7)]


def test_unknown_export_is_404_and_viewers_may_download(app, db, make, owner):
    client, tenant, _ = owner
    assert client.get("/exports/secrets.csv").status_code == 404
    viewer, viewer_client = make.staff(tenant, "viewer"), app.test_client()
    AuthActions(viewer_client).login(viewer.email)
    assert viewer_client.get("/exports/ledger.csv").status_code == 200


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+A1", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_owasp_formula_start_is_escaped(value):
    assert exports.safe_cell(value) == "'" + value and exports.safe_cell("Sara " + value) == "Sara " + value

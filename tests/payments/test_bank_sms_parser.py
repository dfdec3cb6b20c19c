"""Every sample deposit SMS in tests/data/bank_sms parses to its amount, tail and time; the refusals are refused."""
from __future__ import annotations

from datetime import UTC, timezone
from pathlib import Path

import jdatetime
import pytest

from app.services.payments import bank_sms
from app.services.payments.bank_sms.common import TEHRAN, Refused

DATA = Path(__file__).resolve().parent.parent / "data" / "bank_sms"
BANK_FILES = sorted(p for p in DATA.glob("*.txt") if p.stem != "refused")


def samples(path: Path) -> list[tuple[dict, str]]:
    out = []
    for block in path.read_text(encoding="utf-8").split("\n----\n"):
        header, _, text = block.strip().partition("\n")
        fields = dict(part.strip().split(": ", 1) for part in header.lstrip("# ").split(" | "))
        out.append((fields, text))
    return out


def jalali(value: str):
    day, clock = value.split()
    y, m, d = (int(x) for x in day.split("/"))
    hh, mm = (int(x) for x in clock.split(":"))
    return jdatetime.datetime(y, m, d, hh, mm).togregorian().replace(tzinfo=TEHRAN).astimezone(UTC)


def test_every_bank_of_the_issue_has_a_parser_and_samples():
    assert {module.__name__.rsplit(".", 1)[1] for module in bank_sms.BANKS} == {p.stem for p in BANK_FILES}
    assert len(BANK_FILES) == 12 and all(len(samples(p)) >= 2 for p in BANK_FILES)


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_the_samples_parse_to_amount_tail_and_time(path):
    module = next(m for m in bank_sms.BANKS if m.__name__.endswith("." + path.stem))
    for fields, text in samples(path):
        deposit = bank_sms.parse(fields["sender"], text)
        assert deposit.bank == module.BANK, text
        assert (deposit.amount, deposit.tail, deposit.tail_kind, deposit.at) == (
            int(fields["amount"]), fields["tail"], fields["kind"], jalali(fields["at"])), text


def test_every_bank_has_a_sample_naming_an_account_number():
    for path in BANK_FILES:
        assert any(fields["kind"] == "account" for fields, _ in samples(path)), path.stem


@pytest.mark.parametrize("fields, text", samples(DATA / "refused.txt"), ids=lambda v: v.get("reason", "")
                         if isinstance(v, dict) else "")
def test_withdrawals_codes_and_adverts_are_refused(fields, text):
    with pytest.raises(Refused):
        bank_sms.parse(fields["sender"], text)


def test_odd_input_is_refused_not_an_error():
    for sender, text in ((None, None), ("", ""), ("Mellat", "x" * 5000), ("Mellat", "انتقال:1,5,,+")):
        with pytest.raises(Refused):
            bank_sms.parse(sender, text)

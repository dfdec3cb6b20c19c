"""The importers' set-based plumbing: array literals the server reads back unchanged, codes, the reader thread."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.services.codes import ALPHABET
from app.services.imports.ahead import batches_ahead
from app.services.imports.bulk import pg_array, referral_codes

ODD_TEXTS = ["a", None, 'say "hi"', "back\\slash", "NULL", "", "{}", "a,b", " padded ", "tab\tand\nline", "Мария"]


@pytest.mark.postgres
@pytest.mark.parametrize(("values", "pg_type"), [
    ([1, None, 2**40], "bigint"), ([True, None, False], "boolean"), (ODD_TEXTS, "varchar"),
    (["plain", None, "text"], "varchar"), ([], "integer"), ([None, None], "varchar"),
    ([datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), None], "timestamptz"), ([date(2025, 1, 2)], "date"),
])
def test_array_literals_read_back_unchanged(db, values, pg_type):
    got = db.session.scalar(sa.text(f"SELECT CAST(:v AS {pg_type}[])"), {"v": pg_array(values)})
    assert got == values


def test_referral_codes_are_distinct_codes_of_the_alphabet():
    codes = referral_codes(5_000)
    assert len(codes) == 5_000 and all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert len(set(codes)) > 4_990  # 31^8 codes: a repeat among 5,000 is very unlikely
    assert set("".join(codes)) == set(ALPHABET)


def test_batches_come_in_order_and_a_reader_error_reaches_the_caller():
    assert [len(b) for b in batches_ahead(range(25), 10)] == [10, 10, 5]
    assert [x for b in batches_ahead(iter(range(25)), 7) for x in b] == list(range(25))

    def broken():
        yield from range(12)
        raise ValueError("source went away")

    seen = []
    with pytest.raises(ValueError, match="source went away"):
        for batch in batches_ahead(broken(), 5):
            seen += batch
    assert seen == list(range(10))


def test_leaving_early_stops_the_reader_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    for batch in batches_ahead(endless(), 100):
        assert batch[0] == 1
        break
    assert closed.is_set()

"""The member page and the member list say when a member was last active (members.last_activity_at)."""
from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.services import clock, settings

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 15:30 in Tehran; 1404/12/19 in the Jalali calendar


def seen_and_unseen(db, make, tenant):
    seen = make.member(tenant, first_name="Sara", last_activity_at=NOW - timedelta(hours=3))
    unseen = make.member(tenant, first_name="Reza")
    db.session.commit()
    return seen, unseen


def last_seen(page: str) -> str:
    """The text of the member page's "Last seen" line."""
    return page.split('id="member-last-seen">')[1].split("</p>")[0]


def test_the_member_page_shows_when_the_member_was_last_seen_in_english(owner_client, db, make):
    client, tenant, _ = owner_client
    seen, unseen = seen_and_unseen(db, make, tenant)
    with clock.frozen(NOW):
        seen_page = client.get(f"/members/{seen.id}").get_data(as_text=True)
        unseen_page = client.get(f"/members/{unseen.id}").get_data(as_text=True)
    assert last_seen(seen_page) == ('Last seen: <time datetime="2026-03-10T09:00:00+00:00" '
                                    'title="2026-03-10 12:30">3 hours ago</time>')
    assert last_seen(unseen_page) == "Last seen: never"


def test_the_member_page_shows_when_the_member_was_last_seen_in_persian(owner_client, db, make, auth):
    client, tenant, _ = owner_client
    seen, unseen = seen_and_unseen(db, make, tenant)
    auth.use_language("fa")
    with clock.frozen(NOW):
        seen_page = client.get(f"/members/{seen.id}").get_data(as_text=True)
        unseen_page = client.get(f"/members/{unseen.id}").get_data(as_text=True)
        settings.update(tenant, {"persian_digits": False}, by="system")
        db.session.commit()
        latin_digits = client.get(f"/members/{seen.id}").get_data(as_text=True)
    assert 'title="۱۴۰۴/۱۲/۱۹ ۱۲:۳۰">۳ ساعت پیش</time>' in last_seen(seen_page)
    assert last_seen(seen_page).startswith("آخرین فعالیت: ")
    assert last_seen(unseen_page) == "آخرین فعالیت: هرگز"
    assert 'title="1404/12/19 12:30">3 ساعت پیش</time>' in last_seen(latin_digits)


def test_a_moment_ago_reads_as_a_minute_ago(owner_client, db, make):
    client, tenant, _ = owner_client
    member = make.member(tenant, last_activity_at=NOW + timedelta(seconds=5))  # another host's clock runs ahead
    db.session.commit()
    with clock.frozen(NOW):
        assert ">1 minute ago</time>" in last_seen(client.get(f"/members/{member.id}").get_data(as_text=True))


def test_the_member_list_has_a_last_seen_column(owner_client, db, make):
    client, tenant, _ = owner_client
    seen_and_unseen(db, make, tenant)
    with clock.frozen(NOW):
        page = client.get("/members/").get_data(as_text=True)
    table = page.split('id="member-table"')[1]
    assert "<th>Last seen</th>" in table
    assert 'title="2026-03-10 12:30">3 hours ago</time></td>' in table and "<td>never</td>" in table


def test_another_tenants_member_is_still_not_found(owner_client, db, make):
    client, _, _ = owner_client
    stranger = make.member(make.tenant(), last_activity_at=NOW)
    db.session.commit()
    assert client.get(f"/members/{stranger.id}").status_code == 404


@contextlib.contextmanager
def counted(db):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def statements_of_the_list(client, db) -> tuple[list[str], int]:
    client.get("/members/")  # warm: the first request after a commit reloads the signed-in account
    with counted(db) as statements:
        page = client.get("/members/").get_data(as_text=True)
    return statements, page.count("<tr>") - 1


def test_the_list_sends_as_many_statements_for_many_members_as_for_one(owner_client, db, make):
    """The column reads the rows the list already loads: no statement per row."""
    client, tenant, _ = owner_client
    make.member(tenant, last_activity_at=NOW)
    db.session.commit()
    one, rows = statements_of_the_list(client, db)
    assert rows == 1
    for n in range(5):
        make.member(tenant, last_activity_at=NOW - timedelta(days=n) if n % 2 else None)
    db.session.commit()
    six, rows = statements_of_the_list(client, db)
    assert rows == 6 and len(six) == len(one)

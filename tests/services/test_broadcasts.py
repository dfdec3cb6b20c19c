"""Broadcasts: segments, the fan-out in bounded batches, at most once across crashes, pause/resume/cancel.

Messages go through the real outbox handlers to the sandbox (`drain_outbox` plays the worker). Runs on
SQLite and on Postgres (`--db postgres`).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.models import (
    BotSession,
    Broadcast,
    BroadcastDelivery,
    MemberBadge,
    OutboxMessage,
    Subscription,
    utcnow,
)
from app.services import broadcasts
from app.services.broadcasts import Draft, pump
from app.services.broadcasts.segments import Segment
from app.services.errors import DomainError, NotFound


@pytest.fixture
def small_batches(app):
    saved = app.config.get("BROADCAST_BATCH"), app.config.get("BROADCAST_WINDOW")
    app.config.update(BROADCAST_BATCH=3, BROADCAST_WINDOW=4)
    yield
    app.config.update(BROADCAST_BATCH=saved[0] or pump.BATCH, BROADCAST_WINDOW=saved[1] or pump.WINDOW)


def _member(db, make, tenant, bots, sandbox=None, **fields):
    member = make.member(tenant, **fields)
    for bot in bots:
        db.session.add(BotSession(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id, session_data={},
                                  stats_data={}))
        if sandbox is not None:
            sandbox.open_chat(member.telegram_id, bot.telegram_bot_id)
    db.session.commit()
    return member


def _subscription(db, make, tenant, member, ends_in: timedelta, source="balance", status="active"):
    now = utcnow()
    db.session.add(Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=make.plan(tenant).id,
                                status=status, starts_at=now - timedelta(days=30), ends_at=now + ends_in,
                                source=source))
    db.session.commit()


def _count(tenant, bots, **segment):
    draft = Draft(text="hi", bot_ids=[b.id for b in bots], segment=Segment(**segment))
    return broadcasts.compose(tenant, draft).total_count


def _run(drain_outbox, db, broadcast, rounds=200):
    """Play the worker until the broadcast ends (each drain delivers every due row once).

    A pump round with nothing to do asks to run again a second later; each drain lets that second pass
    (`ahead`), so the test does not depend on how fast the machine runs 200 drains.
    """
    for _ in range(rounds):
        drain_outbox(ahead=timedelta(seconds=1.5))
        db.session.expire_all()
        if db.session.get(Broadcast, broadcast.id).status in ("done", "cancelled", "paused"):
            drain_outbox()
            return db.session.get(Broadcast, broadcast.id)
    raise AssertionError("the broadcast did not end")


def _start(db, tenant, bots, text="Hello all", **fields):
    broadcast = broadcasts.compose(tenant, Draft(text=text, bot_ids=[b.id for b in bots], **fields))
    broadcasts.confirm(broadcast)
    db.session.commit()
    return broadcast


def _received(sandbox, bot, member):
    return sandbox.bot_texts(bot.telegram_bot_id, member.telegram_id)


def test_segments_count_who_they_say(db, make):
    tenant = make.tenant()
    bot, other_bot = make.bot(tenant), make.bot(tenant)
    active = _member(db, make, tenant, [bot], language_code="en")
    _subscription(db, make, tenant, active, timedelta(days=5))
    expired = _member(db, make, tenant, [bot], language_code="ru")
    _subscription(db, make, tenant, expired, -timedelta(days=3), status="expired")
    long_ago = _member(db, make, tenant, [bot])
    _subscription(db, make, tenant, long_ago, -timedelta(days=40), status="expired")
    granted = _member(db, make, tenant, [bot], language_code="fa-IR")
    _subscription(db, make, tenant, granted, -timedelta(days=1), source="grant", status="expired")
    _member(db, make, tenant, [bot], is_banned=True)
    elsewhere = _member(db, make, tenant, [other_bot], language_code="en")
    db.session.add(MemberBadge(tenant_id=tenant.id, member_id=active.id, badge_code="first_purchase"))
    db.session.commit()

    assert _count(tenant, [bot]) == 4
    assert _count(tenant, [bot, other_bot]) == 5
    assert _count(tenant, [bot], kind="active") == 1
    assert _count(tenant, [bot], kind="expired", days=7) == 2  # expired and granted; not long_ago
    assert _count(tenant, [bot], kind="expired", days=60) == 3
    assert _count(tenant, [bot], kind="never_bought") == 1  # granted
    assert _count(tenant, [bot, other_bot], language="en") == 2
    assert _count(tenant, [bot], language="fa") == 2  # fa-IR, and long_ago by the tenant's default
    assert _count(tenant, [bot], badge="first_purchase") == 1
    assert _count(tenant, [bot], badge="first_purchase", badge_has=False) == 3
    today = date.today()
    assert _count(tenant, [bot], joined_from=today - timedelta(days=1), joined_to=today + timedelta(days=1)) == 4
    assert _count(tenant, [bot], joined_to=today - timedelta(days=2)) == 0
    assert elsewhere.id


def test_compose_refuses_what_telegram_would(db, make):
    tenant = make.tenant()
    bot, foreign = make.bot(tenant), make.bot(make.tenant())
    for draft in (Draft(text="", bot_ids=[bot.id]), Draft(text="x" * 4097, bot_ids=[bot.id]),
                  Draft(text="x" * 1025, bot_ids=[bot.id], photo=b"\x89PNG\r\n\x1a\n..."),
                  Draft(text="hi", bot_ids=[foreign.id]), Draft(text="hi", bot_ids=[]),
                  Draft(text="hi", bot_ids=[bot.id], button_text="Open", button_url="javascript:alert(1)"),
                  Draft(text="hi", bot_ids=[bot.id], photo=b"GIF89a")):
        with pytest.raises(DomainError):
            broadcasts.compose(tenant, draft)
    with pytest.raises(DomainError):
        Segment(kind="expired")


def test_another_tenants_broadcast_is_not_found(db, make):
    tenant, other = make.tenant(), make.tenant()
    theirs = broadcasts.compose(other, Draft(text="hi", bot_ids=[make.bot(other).id]))
    db.session.commit()
    with pytest.raises(NotFound):
        broadcasts.get(tenant, theirs.id)
    assert broadcasts.list_broadcasts(tenant) == []


def test_members_receive_it_once_in_their_language_with_the_button(db, make, make_bot, sandbox, drain_outbox,
                                                                    bot_app, small_batches):
    tenant = make.tenant()
    bot, second = make_bot(tenant), make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox, language_code=lang) for lang in ("en", "fa", "ru", "en")]
    both = _member(db, make, tenant, [bot, second], sandbox, language_code="en")
    broadcast = _start(db, tenant, [bot, second], text="Sale today", texts={"en": "Sale today (en)"},
                       button_text="Open", button_url="https://example.com/sale")

    broadcast = _run(drain_outbox, db, broadcast)

    assert broadcast.status == "done"
    assert [_received(sandbox, bot, m) for m in people] == [["Sale today (en)"], ["Sale today"], ["Sale today"],
                                                           ["Sale today (en)"]]
    assert len(_received(sandbox, bot, both) + _received(sandbox, second, both)) == 1
    [message] = sandbox.get(f"/sandbox/chats/{people[0].telegram_id}/messages",
                            bot_id=bot.telegram_bot_id)["messages"]
    assert message["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.com/sale"
    progress = broadcasts.progress(broadcast)
    assert (progress["sent"], progress["remaining"], progress["percent"], broadcast.sent_count) == (5, 0, 100, 5)


def test_a_photo_is_uploaded_once_per_bot_then_sent_by_file_id(db, make, make_bot, sandbox, drain_outbox, bot_app):
    from tests.dashboard_world import PNG

    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(3)]
    broadcast = _start(db, tenant, [bot], text="Look", photo=PNG)

    _run(drain_outbox, db, broadcast)

    assert [_received(sandbox, bot, m) for m in people] == [["Look"]] * 3
    assert list(db.session.get(Broadcast, broadcast.id).photo_file_ids) == [str(bot.id)]


def test_the_fan_out_writes_bounded_batches(db, make, make_bot, sandbox, drain_outbox, bot_app, small_batches):
    tenant = make.tenant()
    bot = make_bot(tenant)
    for _ in range(10):
        _member(db, make, tenant, [bot], sandbox)
    broadcast = _start(db, tenant, [bot])

    assert pump.step(broadcast.id, 0) == 0.0  # one round: one batch of 3
    assert db.session.scalar(sa.select(sa.func.count(BroadcastDelivery.id))) == 3
    pump.step(broadcast.id, 0)
    assert pump.step(broadcast.id, 0) == 1.0  # 6 queued > window 4: it waits for the senders
    assert db.session.scalar(sa.select(sa.func.count(BroadcastDelivery.id))) == 6
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "broadcast.send")) == 6


def test_each_bots_sends_fall_due_at_its_limit_side_by_side(app, db, make, make_bot, sandbox, bot_app, small_batches,
                                                            monkeypatch):
    """Members who came bot by bot (member id order is the fan-out's) still give every bot its next sends now: a
    bot's send rows fall due at its limit after those it has in flight, PACE_SECONDS' worth a step, a window but one
    step early (its first window's worth at once); the window of rows in flight is per chosen bot."""
    monkeypatch.setitem(app.config, "TELEGRAM_LIMIT_PER_BOT", "4/second")  # 2 sends a 0.5 s step
    tenant = make.tenant()
    first, second = make_bot(tenant), make_bot(tenant)
    for bot in (first, first, first, first, first, second, second):
        _member(db, make, tenant, [bot], sandbox)
    broadcast = _start(db, tenant, [first, second])

    def due() -> dict[int, list[float]]:
        """Per bot, its send rows' seconds from their writing to their being due, in delivery order."""
        db.session.expire_all()
        bot_of = dict(db.session.execute(sa.select(BroadcastDelivery.id, BroadcastDelivery.bot_id)).all())
        sends = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == pump.SEND))
        found: dict[int, list[float]] = {}
        for row in sorted(sends, key=lambda row: row.payload["delivery_id"]):
            seconds = (row.not_before - row.created_at).total_seconds()
            found.setdefault(bot_of[row.payload["delivery_id"]], []).append(round(seconds, 3))
        return found

    assert pump.step(broadcast.id, 0) == 0.0  # the first round: each bot's first 3 (2 x batch 3 / 2 bots)
    assert due() == {first.id: [0.0, 0.0, 0.0], second.id: [0.0, 0.0]}
    assert pump.step(broadcast.id, 0) == 0.0  # 5 in flight: more than 4, not more than 4 per bot (8); the rest
    assert due() == {first.id: [0.0, 0.0, 0.0, 0.0, 0.5], second.id: [0.0, 0.0]}
    assert db.session.get(Broadcast, broadcast.id).fanned_out
    assert pump.step(broadcast.id, 0) == pump.IDLE_SECONDS  # all written: it waits for the last sends


def test_every_chosen_bot_has_due_sends_after_the_first_round(db, make, make_bot, sandbox, drain_outbox, bot_app,
                                                               small_batches):
    """Members who came bot by bot: the first round writes each chosen bot's first sends (here 2 x batch 3 /
    3 bots), not the first batch in id order (one bot's), so every bot sends from the start; the later rounds
    write the rest in id order, nobody twice."""
    tenant = make.tenant()
    bots = [make_bot(tenant) for _ in range(3)]
    both = _member(db, make, tenant, bots[:2], sandbox)  # may be the first of either: written once
    people = [both] + [_member(db, make, tenant, [bot], sandbox) for bot in bots for _ in range(3)]
    broadcast = _start(db, tenant, bots)

    assert pump.step(broadcast.id, 0) == 0.0
    bot_of = dict(db.session.execute(sa.select(BroadcastDelivery.id, BroadcastDelivery.bot_id)).all())
    due = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == pump.SEND,
                                                            OutboxMessage.not_before <= utcnow()))
    assert {bot_of[row.payload["delivery_id"]] for row in due} == {bot.id for bot in bots}
    assert db.session.get(Broadcast, broadcast.id).cursor_member_id == 0  # the id-order rounds start at the start

    assert _run(drain_outbox, db, broadcast).status == "done"
    assert [sum(len(_received(sandbox, bot, m)) for bot in bots) for m in people] == [1] * len(people)
    assert broadcasts.progress(db.session.get(Broadcast, broadcast.id))["sent"] == len(people)


def test_a_bot_running_dry_before_the_rounds_reach_its_members_gets_its_next_ones_at_once(db, make, make_bot,
                                                                                         sandbox, drain_outbox,
                                                                                         bot_app, small_batches):
    """Members who came bot by bot: a bot that has sent what the first round wrote (fewer than half a share in
    flight) gets its next recipients after the cursor in the next round, not when the rounds in id order reach its
    members (it would send nothing until then); the rounds in id order then skip them; nobody twice."""
    tenant = make.tenant()
    bots = [make_bot(tenant) for _ in range(3)]
    people = {bot.id: [_member(db, make, tenant, [bot], sandbox) for _ in range(3)] for bot in bots}
    last = bots[-1]
    broadcast = _start(db, tenant, bots)

    def written() -> dict[int, list[int]]:
        rows = db.session.execute(sa.select(BroadcastDelivery.bot_id, BroadcastDelivery.member_id)
                                  .order_by(BroadcastDelivery.id)).all()
        found: dict[int, list[int]] = {}
        for bot_id, member_id in rows:
            found.setdefault(bot_id, []).append(member_id)
        return found

    assert pump.step(broadcast.id, 0) == 0.0  # every bot's first 2 (2 x batch 3 / 3 bots)
    assert written() == {bot.id: [m.id for m in people[bot.id][:2]] for bot in bots}
    db.session.execute(sa.update(BroadcastDelivery).where(BroadcastDelivery.bot_id == last.id)
                       .values(status="sent"))  # the last bot sent them; the others still have theirs queued
    db.session.commit()

    assert pump.step(broadcast.id, 0) == 0.0
    assert written()[last.id] == [m.id for m in people[last.id]]  # its third member, ahead of the cursor
    assert db.session.get(Broadcast, broadcast.id).cursor_member_id == 0
    assert [len(written()[bot.id]) for bot in bots[:2]] == [2, 2]

    assert _run(drain_outbox, db, broadcast).status == "done"
    assert written() == {bot.id: [m.id for m in people[bot.id]] for bot in bots}
    assert [len(_received(sandbox, bot, m)) for bot in bots for m in people[bot.id]] == [1] * 6 + [0, 0, 1]  # (2 by hand)


def test_a_send_counts_against_the_bots_limit_from_its_last_byte_not_its_token(app, db, make, make_bot, sandbox,
                                                                                drain_outbox, bot_app, monkeypatch):
    """Telegram counts a send when it arrives. Here the sends' `sending` commit takes 0.7 s of the limiter's clock
    after their tokens (a slow commit, a descheduled thread): the bot's window counts them from their last bytes, so
    the next send may go a window after those, not 0.3 s after them (the sandbox would see 3 in 0.3 s at 2/s)."""
    from app.services.broadcasts import sending
    from app.worker import ratelimit
    clock = _Clock(1000.0)
    limits = ratelimit.TelegramLimits("memory://", per_bot="2/second", per_chat="1/second", per_group="20/minute",
                                      guard=0, clock=clock)
    monkeypatch.setitem(app.extensions, ratelimit._KEY, limits)
    commit = sending.mark_sending_many

    def slow_commit(conn, delivery_ids):
        moved = commit(conn, delivery_ids)
        clock.now += 0.7
        return moved
    monkeypatch.setattr(sending, "mark_sending_many", slow_commit)
    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(2)]
    _start(db, tenant, [bot])
    drain_outbox()
    assert [_received(sandbox, bot, m) for m in people] == [["Hello all"]] * 2 and clock.now == 1000.7

    clock.now = 1001.5  # a window after the tokens, 0.8 s after the last bytes
    assert limits.take(bot.id, [1])[0] > 0
    clock.now = 1001.71
    assert limits.take(bot.id, [1]) == [0.0]


class _Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_delivery_left_sending_by_a_killed_worker_counts_as_sent_and_is_never_sent_again(
        db, make, make_bot, sandbox, drain_outbox, bot_app):
    """`sending` is committed only when Telegram has all of the request but its last byte (bots/committed_send.py):
    the re-run after the lease records it sent ("unconfirmed") and sends nothing; everyone else gets it once."""
    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(4)]
    broadcast = _start(db, tenant, [bot])
    pump.step(broadcast.id, 0)
    victim = db.session.scalars(sa.select(BroadcastDelivery).order_by(BroadcastDelivery.id)).first()
    victim.status = "sending"  # as the dead worker left it (here the sandbox never got it: nothing is resent)
    db.session.commit()

    broadcast = _run(drain_outbox, db, broadcast)

    assert broadcast.status == "done"
    received = {m.id: _received(sandbox, bot, m) for m in people}
    assert received[victim.member_id] == [] and all(received[m.id] == ["Hello all"] for m in people[1:])
    db.session.refresh(victim)
    assert victim.status == "sent" and victim.message_id is None and victim.error.startswith("unconfirmed")
    assert (broadcast.sent_count, broadcast.failed_count) == (4, 0)


def test_a_crashed_pump_round_and_a_restart_write_nobody_twice(db, make, make_bot, sandbox, drain_outbox, bot_app,
                                                               small_batches):
    from tests.engine.conftest import failing_statements

    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(7)]
    broadcast = _start(db, tenant, [bot])
    with failing_statements(db.engine, lambda statement, _: "INSERT INTO outbox_messages" in statement):
        drain_outbox()  # the round dies after its delivery rows were written, before the commit
    assert db.session.scalar(sa.select(sa.func.count(BroadcastDelivery.id))) == 0
    drain_outbox(ahead=timedelta(seconds=10))
    # A "restart": every send row of the first batch delivered, then the outbox rows re-run as after a lease.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.kind == "broadcast.send")
                       .values(status="pending"))
    db.session.commit()

    broadcast = _run(drain_outbox, db, broadcast)

    assert broadcast.status == "done"
    assert [_received(sandbox, bot, m) for m in people] == [["Hello all"]] * 7


def test_pause_holds_resume_continues_cancel_stops(db, make, make_bot, sandbox, drain_outbox, bot_app,
                                                   small_batches):
    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(8)]
    broadcast = _start(db, tenant, [bot])
    pump.step(broadcast.id, 0)  # 3 queued
    broadcasts.pause(broadcast)
    db.session.commit()
    drain_outbox()
    assert sum(len(_received(sandbox, bot, m)) for m in people) == 0
    assert broadcasts.progress(broadcast)["remaining"] == 8

    broadcasts.resume(broadcast)
    db.session.commit()
    assert _run(drain_outbox, db, broadcast).status == "done"
    assert [_received(sandbox, bot, m) for m in people] == [["Hello all"]] * 8

    second = _start(db, tenant, [bot], text="Second")
    pump.step(second.id, 0)
    broadcasts.pause(second)
    db.session.commit()
    drain_outbox()
    broadcasts.cancel(db.session.get(Broadcast, second.id))
    db.session.commit()
    drain_outbox(ahead=timedelta(seconds=5))
    assert sum(len(_received(sandbox, bot, m)) for m in people) == 8
    progress = broadcasts.progress(db.session.get(Broadcast, second.id))
    assert (progress["status"], progress["sent"], progress["cancelled"], progress["remaining"]) == \
        ("cancelled", 0, 3, 0)
    with pytest.raises(DomainError):
        broadcasts.resume(db.session.get(Broadcast, second.id))


def test_blocked_members_are_skipped_and_counted(db, make, make_bot, sandbox, drain_outbox, bot_app):
    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(3)]
    sandbox.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendMessage", "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user", "count": 1})
    broadcast = _run(drain_outbox, db, _start(db, tenant, [bot]))

    assert sorted(len(_received(sandbox, bot, m)) for m in people) == [0, 1, 1]
    assert (broadcast.sent_count, broadcast.blocked_count, broadcast.failed_count) == (2, 1, 0)


def test_a_rate_limited_send_waits_and_goes_once(db, make, make_bot, sandbox, drain_outbox, bot_app):
    tenant = make.tenant()
    bot = make_bot(tenant)
    member = _member(db, make, tenant, [bot], sandbox)
    sandbox.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendMessage", "error_code": 429,
                                     "retry_after": 1, "count": 1})
    broadcast = _start(db, tenant, [bot])
    drain_outbox()
    drain_outbox()
    delivery = db.session.scalars(sa.select(BroadcastDelivery)).one()
    assert delivery.status == "queued" and _received(sandbox, bot, member) == []

    for _ in range(5):
        drain_outbox(ahead=timedelta(seconds=5))
    assert _received(sandbox, bot, member) == ["Hello all"]
    assert db.session.get(Broadcast, broadcast.id).status == "done"


def test_the_cli_sends_reports_and_controls_a_broadcast(db, make, make_bot, sandbox, drain_outbox, bot_app, runner):
    import json

    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox, language_code=lang) for lang in ("en", "ru")]
    refused = runner.invoke(args=["broadcast", "send", "--tenant", tenant.slug, "--bot", str(bot.id), "--text", "hi",
                                  "--button-text", "Open", "--button-url", "ftp://x", "--yes"])
    assert refused.exit_code != 0 and "https://" in refused.output

    sent = runner.invoke(args=["broadcast", "send", "--tenant", tenant.slug, "--bot", str(bot.id), "--text", "Hi",
                               "--text-ru", "Privet", "--language", "ru", "--yes"])
    assert sent.exit_code == 0, sent.output
    assert "1 recipients" in sent.output and "[ru] 1 recipients: Privet" in sent.output
    broadcast_id = db.session.scalars(sa.select(Broadcast.id).where(Broadcast.status == "sending")).one()
    paused = runner.invoke(args=["broadcast", "pause", str(broadcast_id)])
    assert "paused" in paused.output
    assert "cannot be done to this broadcast now" in runner.invoke(args=["broadcast", "pause", str(broadcast_id)]).output
    runner.invoke(args=["broadcast", "resume", str(broadcast_id)])
    _run(drain_outbox, db, db.session.get(Broadcast, broadcast_id))

    status = json.loads(runner.invoke(args=["broadcast", "status", str(broadcast_id)]).output)
    assert (status["status"], status["sent"], status["remaining"]) == ("done", 1, 0)
    assert [_received(sandbox, bot, m) for m in people] == [[], ["Privet"]]
    assert str(broadcast_id) in runner.invoke(args=["broadcast", "list", "--tenant", tenant.slug]).output


def test_a_member_who_blocked_the_bot_is_skipped_without_a_send(db, make, make_bot, sandbox, drain_outbox, bot_app):
    """blocked_at on the session (a 403 earlier, or my_chat_member kicked): counted as blocked, nothing sent;
    a member who blocked only one of the chosen bots gets it through the other."""
    tenant = make.tenant()
    bot, other = make_bot(tenant), make_bot(tenant)
    gone = _member(db, make, tenant, [bot], sandbox)
    half = _member(db, make, tenant, [bot, other], sandbox)
    for session in db.session.scalars(sa.select(BotSession).where(BotSession.bot_id == bot.id)):
        session.blocked_at = utcnow()
    db.session.commit()

    broadcast = _run(drain_outbox, db, _start(db, tenant, [bot, other]))

    assert _received(sandbox, bot, gone) == [] and _received(sandbox, bot, half) == []
    assert _received(sandbox, other, half) == ["Hello all"]
    assert (broadcast.sent_count, broadcast.blocked_count) == (1, 1)
    assert sandbox.calls(bot.telegram_bot_id, "sendMessage") == []


def test_a_403_during_the_broadcast_flags_the_session(db, make, make_bot, sandbox, drain_outbox, bot_app):
    tenant = make.tenant()
    bot = make_bot(tenant)
    member = _member(db, make, tenant, [bot], sandbox)
    sandbox.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendMessage", "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user", "count": 1})
    broadcast = _run(drain_outbox, db, _start(db, tenant, [bot]))
    assert broadcast.blocked_count == 1
    session = db.session.scalars(sa.select(BotSession).where(BotSession.member_id == member.id)).one()
    assert session.blocked_at is not None


def test_a_batch_of_sends_costs_a_few_statements_not_one_a_message(db, make, make_bot, sandbox, drain_outbox, bot_app):
    """The send path is batched (bots/broadcast_outbound.py `deliver_batch`): a batch of deliveries is read in one
    statement, a bot's sends go side by side TOKENS_AT_ONCE at a time with one `sending` commit for them (the
    before-last-byte rule for all of them), the outcomes and the outbox acknowledgements are one statement each per
    batch. Per-message ORM sends took ~12 statements a message, per-message `sending` commits ~1."""
    from bots.broadcast_outbound import TOKENS_AT_ONCE
    tenant = make.tenant()
    bot = make_bot(tenant)
    people = [_member(db, make, tenant, [bot], sandbox) for _ in range(40)]
    broadcast = _start(db, tenant, [bot])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        drain_outbox()  # the pump's first round writes 40 deliveries and their send rows; the same drain sends them
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert all(_received(sandbox, bot, m) == ["Hello all"] for m in people)
    marks = [s for s in statements if s.startswith("UPDATE broadcast_deliveries SET status")]
    assert len(marks) <= 40 // TOKENS_AT_ONCE + 1  # one `sending` per group, one for the batch's outcomes
    assert len(statements) <= 35, statements  # per batch: the pump round, claims, reads, acks
    assert _run(drain_outbox, db, broadcast).sent_count == 40


@pytest.mark.postgres
def test_a_second_run_of_a_send_still_awaiting_its_answer_leaves_the_delivery_to_its_sender(
        db, make, make_bot, sandbox, bot_app):
    """Two broker messages of one row (the sweeper's after a lease ran out, Dramatiq's redelivery) can run one send
    twice. The second finds `sending`; while the first still waits for Telegram's answer it must not record it sent
    ("unconfirmed"): a 429 then sends it again, instead of losing the member. Once the sender's session is gone
    (a killed worker), the same read records it sent, unconfirmed."""
    from app.models import DeliveryStatus
    from app.services.broadcasts import sending
    tenant = make.tenant()
    bot = make_bot(tenant)
    for _ in range(2):
        _member(db, make, tenant, [bot], sandbox)
    broadcast = _start(db, tenant, [bot])
    pump.step(broadcast.id, 0)
    alive, killed = db.session.scalars(sa.select(BroadcastDelivery.id).order_by(BroadcastDelivery.id)).all()
    db.session.commit()
    status = sa.select(BroadcastDelivery.status).where(BroadcastDelivery.id == sa.bindparam("id"))

    with db.engine.connect() as first, db.engine.connect() as second, db.engine.connect() as dead:
        assert [d.id for d in sending.take(first, [alive])[0]] == [alive]
        assert sending.mark_sending_many(first, [alive]) == {alive}  # the first run: Telegram has the request, its answer is on the way
        assert [d.id for d in sending.take(dead, [killed])[0]] == [killed]
        assert sending.mark_sending_many(dead, [killed]) == {killed}
        dead.invalidate()  # that worker is SIGKILLed: its session ends

        to_send, nothing, locked = sending.take(second, [alive, killed])  # the second runs of both
        assert (to_send, nothing, locked) == ([], {killed}, {alive})
        assert second.scalar(status, {"id": killed}) == "sent"  # unconfirmed: the sender is gone
        assert second.scalar(status, {"id": alive}) == "sending"  # left to its sender
        second.commit()

        sending.record(first, {}, {alive: (DeliveryStatus.QUEUED, "429 Too Many Requests")})  # its answer: a 429
        sending.release(first)
        assert second.scalar(status, {"id": alive}) == "queued"  # its outbox row retries: the member gets it
        second.commit()
        assert [d.id for d in sending.take(second, [alive])[0]] == [alive]

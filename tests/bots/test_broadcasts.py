"""A broadcast end to end: members who started the bots in the sandbox, the owner's dashboard flow (compose →
preview and count → confirm → progress JSON), the outbox delivering, each member receiving it once."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa

from app.models import Broadcast
from tests.dashboard_world import PNG
from tests.factories import AuthActions
from tests.helpers import csrf_token


def _owner_client(app, make):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    client = app.test_client()
    AuthActions(client).use_language("en")
    AuthActions(client).login(owner.email)
    return client, tenant


def _drain_until_ended(drain_outbox, db, broadcast_id, rounds=100):
    """Play the worker until the broadcast ends; each drain lets an idle pump round's one-second wait pass."""
    for _ in range(rounds):
        drain_outbox(ahead=timedelta(seconds=1.5))
        db.session.expire_all()
        if db.session.get(Broadcast, broadcast_id).status in ("done", "cancelled"):
            return
    raise AssertionError("the broadcast did not end")


def test_members_get_the_owners_broadcast_once_through_the_sandbox(conversation_app, fleet, make, db, drain_outbox):
    client, tenant = _owner_client(conversation_app, make)
    bot, other_bot = make.bot(tenant), make.bot(tenant)
    fleet.add(bot), fleet.add(other_bot)
    english, persian, blocker = (fleet.user(bot, language_code=lang) for lang in ("en", "fa", "en"))
    on_both = fleet.user(bot, language_code="ru")
    for user in (english, persian, blocker, on_both):
        user.says("/start")
    on_other_bot = fleet.user(other_bot, user_id=on_both.id, language_code="ru")
    on_other_bot.says("/start")  # used last: the broadcast reaches this member through the other bot
    users = (english, persian, blocker, on_both, on_other_bot)
    before = {id(u): len(u.bot_messages()) for u in users}

    page = client.get("/broadcasts/new")
    form = {"csrf_token": csrf_token(page), "bot_ids": [str(bot.id), str(other_bot.id)], "text": "Big news",
            "text_en": "Big news (en)", "kind": "all", "language": "", "badge_has": "1",
            "button_text": "Read", "button_url": "https://example.com/news",
            "photo": (io.BytesIO(PNG), "news.png")}
    composed = client.post("/broadcasts/new", data=form, content_type="multipart/form-data")
    assert composed.status_code == 302, composed.get_data(as_text=True)[:2000]
    preview = client.get(composed.headers["Location"]).get_data(as_text=True)
    assert "4 members will get this message." in preview
    assert re.search(r"English</bdi> · 2 recipients.*Big news \(en\)", preview, re.S)
    broadcast_id = db.session.scalar(sa.select(Broadcast.id))
    assert client.get(f"/broadcasts/{broadcast_id}/photo").data == PNG
    fleet.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendPhoto", "error_code": 403,
                                   "description": "Forbidden: bot was blocked by the user", "count": 1})

    confirmed = client.post(f"/broadcasts/{broadcast_id}/confirm", data={"csrf_token": csrf_token(page)})
    assert confirmed.status_code == 302
    _drain_until_ended(drain_outbox, db, broadcast_id)

    got = {id(u): u.bot_messages()[before[id(u)]:] for u in users}
    assert got[id(on_both)] == []
    # The first send of the first bot met the 403: that member is counted as blocked, and not retried.
    blocked = [u for u in (english, persian, blocker) if not got[id(u)]]
    assert len(blocked) == 1
    for user, caption in ((english, "Big news (en)"), (persian, "Big news"), (blocker, "Big news (en)"),
                          (on_other_bot, "Big news")):
        if user not in blocked:
            [message] = got[id(user)]
            assert message["caption"] == caption and message["photo"]
            assert message["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.com/news"
    progress = client.get(f"/broadcasts/{broadcast_id}/progress").get_json()
    assert {k: progress[k] for k in ("status", "sent", "blocked", "failed", "remaining", "percent")} == \
        {"status": "done", "sent": 3, "blocked": 1, "failed": 0, "remaining": 0, "percent": 100}
    assert "Big news" in client.get("/broadcasts/").get_data(as_text=True)
    AuthActions(client).use_language("fa")
    done_page = client.get(f"/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert "باقی‌مانده" in done_page and "Remaining" not in done_page and "انجام شد" in done_page

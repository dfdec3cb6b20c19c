import logging

import pytest
import sqlalchemy as sa

from app.models import Bot
from app.services import bots
from app.services.errors import ValidationFailed

TOKEN = "5123456:AAE-secret-part-for-the-test"


def test_token_is_stored_as_ciphertext_and_reads_back(db, make):
    bot = make.bot(make.tenant(), token=TOKEN)
    raw = db.session.execute(sa.text("SELECT token_encrypted FROM bots WHERE id = :id"), {"id": bot.id}).scalar()
    assert TOKEN.encode() not in bytes(raw)
    assert b"secret-part" not in bytes(raw)
    assert bots.bot_token(db.session.get(Bot, bot.id)) == TOKEN
    assert bot.token_hint == TOKEN[-4:]


def test_repr_and_logs_never_show_the_token(db, make, caplog):
    bot = make.bot(make.tenant(), token=TOKEN)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botfleet.test").info("bot %r changed: %s", bot, bot)
    assert "secret-part" not in repr(bot) + str(bot) + caplog.text
    assert str(bot.id) in repr(bot)


def test_same_token_twice_is_refused(db, make):
    make.bot(make.tenant(), token=TOKEN)
    with pytest.raises(ValidationFailed, match="already connected"):
        make.bot(make.tenant(), token=TOKEN)


@pytest.mark.parametrize("token", ["", "abc", "123:", ":secret", "12345 :x y", "1234567:has space"])
def test_malformed_tokens_are_refused(db, make, token):
    with pytest.raises(ValidationFailed, match="not a bot token"):
        bots.create_bot(make.tenant(), token, telegram_bot_id=1, username="x")

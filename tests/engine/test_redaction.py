"""Bot tokens never reach the logs: messages, arguments and tracebacks are masked."""
import logging

import pytest
from telebot import apihelper, types

from app import redaction
from bots.dispatch import process_update
from bots.factory import build_telebot
from bots.middleware import UpdateEnvelope
from tests.engine.conftest import closed_port_url

SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TOKEN = f"123456789:{SECRET}"


def test_redact_masks_tokens_and_keeps_addresses():
    text = f"GET http://127.0.0.1:8081/bot{TOKEN}/getMe failed; db 10.0.0.100:54321; at 12:30"
    masked = redaction.redact(text)
    assert SECRET not in masked
    assert "/bot123456789:<redacted>/getMe" in masked
    assert "127.0.0.1:8081" in masked and "10.0.0.100:54321" in masked and "12:30" in masked


@pytest.mark.parametrize("logger_name", ["TeleBot", "bots.manager", "app.webhooks.routes"])
def test_messages_arguments_and_tracebacks_are_masked(logger_name, caplog):
    redaction.install()
    logger = redaction.get_logger(logger_name)
    caplog.set_level(logging.DEBUG, logger=logger_name)
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        logger.exception("while calling %s", f"/bot{TOKEN}/getUpdates")
    assert SECRET not in caplog.text
    assert "123456789:<redacted>" in caplog.text and "RuntimeError" in caplog.text


def test_a_failing_send_logs_no_token(bot_app, make, db, caplog):
    """A handler's own send (/buttons sends inline) fails with the URL (and token) in the exception;
    nothing logged shows it."""
    from app.services.bots import bot_token

    bot = make.bot(make.tenant(), token=TOKEN)
    tb = build_telebot(bot_app, bot)
    apihelper.API_URL = closed_port_url() + "/bot{0}/{1}"
    caplog.set_level(logging.DEBUG)
    update = types.Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "date": 1, "text": "/buttons", "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}})
    envelope = process_update(tb, update, UpdateEnvelope(1))
    assert bot_token(bot) == TOKEN
    assert envelope.failed is not None and TOKEN in str(envelope.failed)  # the exception itself holds it
    assert "ConnectionError" in caplog.text
    assert SECRET not in caplog.text

"""Which replies a webhook request answers in its response's body (bots/replies.answer_for): one call, of a method
whose result nobody reads, JSON only, within the bot's send limit. Everything else takes the outbox's way."""
import json
from types import SimpleNamespace

from telebot import types

from app.worker.ratelimit import TelegramLimits
from bots import outbound, replies

BOT = SimpleNamespace(botfleet_bot_id=7, botfleet_tenant_id=1)


def call(method, **params):
    return outbound.bot_call(method, **params)


def test_one_message_is_the_answer_with_its_keyboard_as_an_object_and_no_empty_parameters(app):
    markup = types.InlineKeyboardMarkup()
    markup.add(types.InlineKeyboardButton("Profile", callback_data="profile"))
    with app.app_context():
        body = replies.answer_for(BOT, [call("send_message", chat_id=501, text="hi", reply_markup=markup,
                                             parse_mode=None)])
    assert body == {"method": "sendMessage", "chat_id": 501, "text": "hi",
                    "reply_markup": json.loads(markup.to_json())}


def test_a_button_answer_and_an_edit_are_answers_too(app):
    with app.app_context():
        assert replies.answer_for(BOT, [call("answer_callback_query", callback_query_id="q1", text="ok")]) == {
            "method": "answerCallbackQuery", "callback_query_id": "q1", "text": "ok"}
        assert replies.answer_for(BOT, [call("edit_message_text", chat_id=5, message_id=9, text="new")]) == {
            "method": "editMessageText", "chat_id": 5, "message_id": 9, "text": "new"}


def test_several_calls_uploads_other_methods_and_unknown_parameters_take_the_outbox(app):
    with app.app_context():
        two = [call("answer_callback_query", callback_query_id="q1"), call("send_message", chat_id=5, text="a")]
        assert replies.answer_for(BOT, two) is None  # one in the answer could overtake the other
        assert replies.answer_for(BOT, [call("send_photo", chat_id=5, photo=b"\x89PNG")]) is None
        assert replies.answer_for(BOT, [call("delete_message", chat_id=5, message_id=9)]) is None
        assert replies.answer_for(BOT, [call("send_message", chat_id=5, text="a", disable_notification=True)]) is None
        assert replies.answer_for(BOT, []) is None


def test_a_send_over_the_bots_limit_takes_the_outbox(app, monkeypatch):
    limits = TelegramLimits("memory://", per_bot="1/minute", per_chat="1/second", per_group="20/minute")
    monkeypatch.setattr(replies, "limits_for", lambda: limits)
    with app.app_context():
        assert replies.answer_for(BOT, [call("send_message", chat_id=5, text="a")]) is not None
        assert replies.answer_for(BOT, [call("send_message", chat_id=5, text="b")]) is None
        # a button answer is no send: Telegram's message limits do not count it
        assert replies.answer_for(BOT, [call("answer_callback_query", callback_query_id="q")]) is not None


def test_keep_answers_only_when_the_request_offered_to_and_only_once(app):
    calls = [call("send_message", chat_id=5, text="a")]
    with app.app_context():
        offered = replies.offer_answer()
        assert replies.keep(BOT, calls, 1) == replies.IN_ANSWER
        assert replies.take_answer(offered) == {"method": "sendMessage", "chat_id": 5, "text": "a"}
        offered = replies.offer_answer()
        assert replies.take_answer(offered) is None  # nothing kept: no answer

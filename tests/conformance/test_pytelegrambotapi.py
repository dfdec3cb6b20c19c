"""pyTelegramBotAPI (the client Botfleet's bots use) against the sandbox."""

import io

import pytest
import telebot
from telebot import apihelper, types
from telebot.apihelper import ApiTelegramException

from tests.conformance import expected
from tests.conformance.conftest import USER_ID

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def tb(sandbox, bot_with_user):
    """A TeleBot pointed at the sandbox, whose user already wrote to it."""
    saved = apihelper.API_URL, apihelper.FILE_URL
    apihelper.API_URL = sandbox.url + "/bot{0}/{1}"
    apihelper.FILE_URL = sandbox.url + "/file/bot{0}/{1}"
    yield telebot.TeleBot(bot_with_user[0], threaded=False)
    apihelper.API_URL, apihelper.FILE_URL = saved


def entities_json(entities):
    return [{key: value for key, value in entity.to_dict().items() if value is not None}
            for entity in entities or []]


def test_get_me_and_polling(tb, sandbox, bot_with_user):
    me = tb.get_me()
    sandbox.user_writes(bot_with_user[1], "/start")

    updates = tb.get_updates(timeout=1)

    assert (me.id, me.is_bot, me.username) == (bot_with_user[1], True, f"conf{me.id}_bot")
    assert [u.message.text for u in updates] == ["hi", "/start"]
    assert entities_json(updates[1].message.entities) == [
        {"type": "bot_command", "offset": 0, "length": 6}]


@pytest.mark.parametrize("parse_mode, sent, shown, entities", expected.FORMATTED)
def test_formatting_gives_telegrams_entities(tb, parse_mode, sent, shown, entities):
    message = tb.send_message(USER_ID, sent, parse_mode=parse_mode)

    assert message.text == shown
    assert entities_json(message.entities) == entities


@pytest.mark.parametrize("parse_mode, sent, description", expected.PARSE_ERRORS)
def test_formatting_errors_are_telegrams(tb, parse_mode, sent, description):
    with pytest.raises(ApiTelegramException) as raised:
        tb.send_message(USER_ID, sent, parse_mode=parse_mode)
    assert (raised.value.error_code, raised.value.description) == (400, description)


def test_entities_parameter_is_kept(tb):
    bold = types.MessageEntity("bold", 0, 5)
    message = tb.send_message(USER_ID, "Hello world", entities=[bold])
    assert entities_json(message.entities) == [{"type": "bold", "offset": 0, "length": 5}]


def test_upload_by_field_name_then_reuse_file_id_and_download(tb, png):
    sent = tb.send_photo(USER_ID, io.BytesIO(png), caption="<b>receipt</b>", parse_mode="HTML")
    again = tb.send_photo(USER_ID, sent.photo[-1].file_id)
    document = tb.send_document(USER_ID, ("notes.txt", b"plain text"))

    file = tb.get_file(document.document.file_id)

    assert (sent.photo[-1].width, sent.photo[-1].height) == (2, 3)
    assert sent.caption == "receipt" and entities_json(sent.caption_entities) == [
        {"type": "bold", "offset": 0, "length": 7}]
    assert again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id
    assert tb.download_file(file.file_path) == b"plain text"
    assert document.document.file_name == "notes.txt"


def test_send_photo_refuses_non_images_and_document_ids(tb):
    document = tb.send_document(USER_ID, ("notes.txt", b"plain text"))
    with pytest.raises(ApiTelegramException) as not_image:
        tb.send_photo(USER_ID, ("fake.png", b"not an image"))
    with pytest.raises(ApiTelegramException) as mismatch:
        tb.send_photo(USER_ID, document.document.file_id)
    assert not_image.value.description == expected.NOT_AN_IMAGE
    assert mismatch.value.description == expected.TYPE_MISMATCH


def test_keyboards_callback_answer_edit_and_delete(tb, sandbox, bot_with_user):
    markup = types.InlineKeyboardMarkup()
    markup.add(types.InlineKeyboardButton("Buy", callback_data="buy:1"))
    offer = tb.send_message(USER_ID, "Plan", reply_markup=markup)
    reply_keyboard = types.ReplyKeyboardMarkup(resize_keyboard=True).add("Plans")
    menu = tb.send_message(USER_ID, "Menu", reply_markup=reply_keyboard)
    sandbox.user_taps(bot_with_user[1], offer.message_id, "buy:1")
    [query] = [u.callback_query for u in tb.get_updates(timeout=1) if u.callback_query]

    assert tb.answer_callback_query(query.id, "Not enough balance", show_alert=True) is True
    edited = tb.edit_message_text("Plan (sold out)", USER_ID, offer.message_id)
    assert tb.delete_message(USER_ID, menu.message_id) is True

    assert query.data == "buy:1" and query.message.message_id == offer.message_id
    assert edited.text == "Plan (sold out)" and edited.reply_markup is None and edited.edit_date
    assert [a["text"] for a in sandbox.callback_answers(bot_with_user[1])] == ["Not enough balance"]
    assert [m["text"] for m in sandbox.messages(bot_with_user[1]) if m["from_bot"]] == [
        "Plan (sold out)"]


def test_limits(tb, png):
    assert len(tb.send_message(USER_ID, "x" * 4096).text) == 4096
    assert len(tb.send_photo(USER_ID, io.BytesIO(png), caption="c" * 1024).caption) == 1024
    fits = types.InlineKeyboardMarkup().add(
        types.InlineKeyboardButton("b", callback_data=expected.DATA_64_BYTES))
    assert tb.send_message(USER_ID, "ok", reply_markup=fits)
    too_much = types.InlineKeyboardMarkup().add(
        types.InlineKeyboardButton("b", callback_data=expected.DATA_66_BYTES))
    for send, description in [
            (lambda: tb.send_message(USER_ID, "x" * 4097), expected.TOO_LONG_TEXT),
            (lambda: tb.send_photo(USER_ID, io.BytesIO(png), caption="c" * 1025),
             expected.TOO_LONG_CAPTION),
            (lambda: tb.send_message(USER_ID, "ok", reply_markup=too_much),
             expected.BUTTON_DATA_INVALID),
            (lambda: tb.send_message(USER_ID, "   "), expected.EMPTY_TEXT)]:
        with pytest.raises(ApiTelegramException) as raised:
            send()
        assert (raised.value.error_code, raised.value.description) == (400, description)


def test_get_chat_is_a_chat_full_info(tb):
    chat = tb.get_chat(USER_ID)
    assert (chat.id, chat.type, chat.first_name) == (USER_ID, "private", "Sara")
    assert isinstance(chat.accent_color_id, int) and isinstance(chat.max_reaction_count, int)
    assert chat.accepted_gift_types.unlimited_gifts in (True, False)

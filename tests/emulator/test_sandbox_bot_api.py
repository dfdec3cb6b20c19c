"""The Bot API side, driven through pyTelegramBotAPI and plain HTTP."""

import io

import pytest
import requests
from telebot import types
from telebot.apihelper import ApiTelegramException

pytestmark = pytest.mark.timeout(30)


def inline_keyboard(*callback_data):
    """Return an inline keyboard with one button per callback_data."""
    markup = types.InlineKeyboardMarkup()
    markup.add(*(types.InlineKeyboardButton(f"b{i}", callback_data=data)
                 for i, data in enumerate(callback_data)))
    return markup


def test_get_me_answers_default_identity_and_registers_the_bot(make_bot, control):
    bot, bot_id = make_bot()

    me = bot.get_me()

    assert (me.id, me.is_bot, me.username) == (bot_id, True, f"sandbox{bot_id}_bot")
    assert me.can_join_groups is True and me.supports_inline_queries is False
    listed = control.get("/sandbox/bots").json()["bots"]
    assert [b for b in listed if b["id"] == bot_id] == [{
        "id": bot_id, "username": f"sandbox{bot_id}_bot", "first_name": me.first_name,
        "revoked": False, "webhook_url": None}]


def test_registered_names_are_what_get_me_answers(make_bot, control, new_token):
    token = new_token()
    response = control.post("/sandbox/bots", {"token": token, "username": "shop_bot",
                                              "first_name": "Shop"})
    bot, bot_id = make_bot(token)

    assert response.status_code == 201
    assert response.json() == {"id": bot_id, "username": "shop_bot"}
    assert (bot.get_me().username, bot.get_me().first_name) == ("shop_bot", "Shop")


def test_malformed_token_and_unknown_method_answer_404(sandbox, new_token):
    malformed = requests.get(sandbox.url + "/botnot-a-token/getMe", timeout=5)
    unknown = requests.get(f"{sandbox.url}/bot{new_token()}/sendTelepathy", timeout=5)

    for response in (malformed, unknown):
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_method_names_are_case_insensitive_and_json_bodies_work(sandbox, new_token, control):
    token = new_token()
    response = requests.post(f"{sandbox.url}/bot{token}/SENDMESSAGE",
                             json={"chat_id": 42, "text": "hello"}, timeout=5)

    assert response.status_code == 200
    assert response.json()["result"]["text"] == "hello"
    assert control.calls(int(token.split(":")[0]))[-1]["method"] == "sendMessage"


def test_send_message_returns_a_full_message_and_logs_it(make_bot, control):
    bot, bot_id = make_bot()

    message = bot.send_message(501, "Salam", reply_markup=inline_keyboard("buy:1"))

    assert (message.chat.id, message.chat.type, message.from_user.id) == (501, "private", bot_id)
    assert message.reply_markup.keyboard[0][0].callback_data == "buy:1"
    [logged] = control.messages(bot_id, 501)
    assert logged["message_id"] == message.message_id and logged["from_bot"] is True
    assert logged["text"] == "Salam" and logged["edited"] is False
    assert logged["reply_markup"] == {
        "inline_keyboard": [[{"text": "b0", "callback_data": "buy:1"}]]}


def test_html_parse_mode_shows_plain_text_and_rejects_unknown_tags(make_bot):
    bot, _ = make_bot()

    sent = bot.send_message(7, "<b>Bold</b> &amp; done", parse_mode="HTML")
    with pytest.raises(ApiTelegramException) as error:
        bot.send_message(7, "<script>x</script>", parse_mode="HTML")

    assert sent.text == "Bold & done"
    assert error.value.error_code == 400
    assert "can't parse entities" in error.value.description


@pytest.mark.parametrize("call, description", [
    (lambda bot: bot.send_message(7, "x" * 4097), "Bad Request: message is too long"),
    (lambda bot: bot.send_message(7, ""), "Bad Request: message text is empty"),
    (lambda bot: bot.send_message(7, "hi", reply_markup=inline_keyboard("d" * 65)),
     "Bad Request: BUTTON_DATA_INVALID"),
    (lambda bot: bot.send_photo(7, "no-such-file-id"),
     "Bad Request: wrong file identifier/HTTP URL specified"),
    (lambda bot: bot.edit_message_text("new", 7, 999), "Bad Request: message to edit not found"),
])
def test_telegram_limits_answer_400(make_bot, control, call, description):
    bot, bot_id = make_bot()

    with pytest.raises(ApiTelegramException) as error:
        call(bot)

    assert (error.value.error_code, error.value.description) == (400, description)
    assert control.messages(bot_id, 7) == []


def test_limits_at_the_boundary_are_accepted(make_bot, png_bytes):
    bot, _ = make_bot()

    assert len(bot.send_message(7, "x" * 4096).text) == 4096
    assert bot.send_message(7, "ok", reply_markup=inline_keyboard("d" * 64)).message_id
    assert len(bot.send_photo(7, png_bytes, caption="c" * 1024).caption) == 1024
    with pytest.raises(ApiTelegramException, match="caption is too long"):
        bot.send_photo(7, png_bytes, caption="c" * 1025)


def test_send_photo_upload_is_stored_and_reusable_by_file_id(make_bot, control, png_bytes):
    bot, bot_id = make_bot()

    sent = bot.send_photo(8, png_bytes, caption="receipt")
    again = bot.send_photo(8, sent.photo[-1].file_id)

    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (2, 3, len(png_bytes))
    assert again.photo[-1].file_id == size.file_id
    assert bot.download_file(bot.get_file(size.file_id).file_path) == png_bytes
    assert [m["photo"] for m in control.messages(bot_id, 8)] == [size.file_id, size.file_id]
    assert control.messages(bot_id, 8)[0]["caption"] == "receipt"


def test_send_document_keeps_name_and_bytes(make_bot):
    bot, _ = make_bot()

    sent = bot.send_document(9, types.InputFile(io.BytesIO(b"a,b\n1,2\n"), file_name="report.csv"))

    assert (sent.document.file_name, sent.document.mime_type) == ("report.csv", "text/csv")
    assert bot.download_file(bot.get_file(sent.document.file_id).file_path) == b"a,b\n1,2\n"


def test_edit_message_shows_current_content_and_edited_flag(make_bot, control):
    bot, bot_id = make_bot()
    sent = bot.send_message(10, "Pending", reply_markup=inline_keyboard("approve"))

    edited = bot.edit_message_text("Approved", 10, sent.message_id)
    rekeyed = bot.edit_message_reply_markup(10, sent.message_id,
                                            reply_markup=inline_keyboard("undo"))

    assert edited.text == "Approved" and edited.edit_date
    assert rekeyed.reply_markup.keyboard[0][0].callback_data == "undo"
    [logged] = control.messages(bot_id, 10)
    assert (logged["text"], logged["edited"]) == ("Approved", True)
    assert logged["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "undo"


def test_editing_with_identical_content_is_not_modified(make_bot):
    bot, _ = make_bot()
    sent = bot.send_message(10, "Same")

    with pytest.raises(ApiTelegramException, match="message is not modified"):
        bot.edit_message_text("Same", 10, sent.message_id)


def test_delete_forward_and_copy(make_bot, control):
    bot, bot_id = make_bot()
    first = bot.send_message(11, "first")
    second = bot.send_message(11, "second")

    assert bot.delete_message(11, first.message_id) is True
    forwarded = bot.forward_message(12, 11, second.message_id)
    copied = bot.copy_message(12, 11, second.message_id)

    assert [m["text"] for m in control.messages(bot_id, 11)] == ["second"]
    assert forwarded.text == "second" and forwarded.forward_origin.sender_user.id == bot_id
    assert [m["message_id"] for m in control.messages(bot_id, 12)] == [
        forwarded.message_id, copied.message_id]
    with pytest.raises(ApiTelegramException, match="message to delete not found"):
        bot.delete_message(11, first.message_id)


def test_reply_keyboards_show_in_the_chat_log_but_not_in_the_message(make_bot, control):
    bot, bot_id = make_bot()
    keyboard = types.ReplyKeyboardMarkup(resize_keyboard=True)
    keyboard.add(types.KeyboardButton("Plans"))

    sent = bot.send_message(13, "Menu", reply_markup=keyboard)

    assert sent.reply_markup is None
    assert control.messages(bot_id, 13)[0]["reply_markup"]["keyboard"] == [[{"text": "Plans"}]]

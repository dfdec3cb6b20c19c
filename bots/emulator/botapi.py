"""The Bot API side: /bot<token>/<method> and /file/bot<token>/<file_path>."""

import json

from werkzeug import Response

from . import methods_edit as edit
from . import methods_send as send
from . import methods_updates as updates
from .errors import ApiError
from .params import Call, loggable, read_params
from .state import parse_token

#: Canonical method names and their handlers; lookup is case-insensitive.
METHODS = {name.lower(): (name, handler) for name, handler in [
    ("getMe", updates.get_me),
    ("getUpdates", updates.get_updates),
    ("setWebhook", updates.set_webhook),
    ("deleteWebhook", updates.delete_webhook),
    ("getWebhookInfo", updates.get_webhook_info),
    ("sendMessage", send.send_message),
    ("sendPhoto", send.send_photo),
    ("sendDocument", send.send_document),
    ("forwardMessage", send.forward_message),
    ("copyMessage", send.copy_message),
    ("editMessageText", edit.edit_message_text),
    ("editMessageCaption", edit.edit_message_caption),
    ("editMessageReplyMarkup", edit.edit_message_reply_markup),
    ("deleteMessage", edit.delete_message),
    ("answerCallbackQuery", edit.answer_callback_query),
    ("getFile", edit.get_file),
    ("getChat", edit.get_chat),
    ("sendChatAction", updates.accept),
    ("setMyCommands", updates.accept),
    ("deleteMyCommands", updates.accept),
    ("getMyCommands", updates.get_my_commands),
]}


def json_response(body, status=200):
    """Return a JSON response."""
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json")


def error_response(error):
    """Return the Bot API error envelope for an ApiError."""
    return json_response(error.to_json(), error.error_code)


def handle_method(sandbox, request, token, method):
    """Answer one Bot API call."""
    try:
        parse_token(token)
        params = read_params(request)
    except ApiError as error:
        return error_response(error)
    with sandbox.state.lock:
        # Serialized under the lock: results share dicts that later edits change.
        body, status = _call_locked(sandbox, token, method, params)
        text = json.dumps(body, ensure_ascii=False)
    return Response(text, status=status, content_type="application/json")


def _call_locked(sandbox, token, method, params):
    state = sandbox.state
    bot = state.see_bot(token)
    name, handler = METHODS.get(method.lower(), (method, None))
    entry = state.record_call(bot, name, loggable(params, token))
    try:
        state.authorize(bot, token)
        if handler is None:
            raise ApiError(404, "Not Found")
        state.admit_call(bot, name)
        return {"ok": True, "result": handler(Call(sandbox, bot, params))}, 200
    except ApiError as error:
        entry["error_code"] = error.error_code
        return error.to_json(), error.error_code


def handle_file(sandbox, request, token, file_path):
    """Serve the bytes of a stored file, as api.telegram.org/file/bot<token>/... does."""
    state = sandbox.state
    with state.lock:
        try:
            state.authorize(state.see_bot(token), token)
        except ApiError as error:
            return error_response(error)
        stored = state.files.by_path(file_path)
    if stored is None:
        return error_response(ApiError(404, "Not Found"))
    return Response(stored.data, content_type=stored.mime_type or "application/octet-stream")

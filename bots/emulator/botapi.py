"""The Bot API side: /bot<token>/<method> and /file/bot<token>/<file_path>."""

import json
import time

from werkzeug import Response
from werkzeug.http import HTTP_STATUS_CODES

from . import chat_admin, commands, membership
from . import methods_edit as edit
from . import methods_media as media
from . import methods_payments as payments
from . import methods_send as send
from . import methods_updates as updates
from .errors import ApiError
from .params import Call, decode_param, loggable, read_params
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
    ("setMyCommands", commands.set_my_commands),
    ("deleteMyCommands", commands.delete_my_commands),
    ("getMyCommands", commands.get_my_commands),
    ("sendVideo", media.send_video),
    ("sendAudio", media.send_audio),
    ("sendVoice", media.send_voice),
    ("sendVideoNote", media.send_video_note),
    ("sendAnimation", media.send_animation),
    ("sendMediaGroup", media.send_media_group),
    ("editMessageMedia", media.edit_message_media),
    ("sendLocation", media.send_location),
    ("sendVenue", media.send_venue),
    ("sendDice", media.send_dice),
    ("sendPoll", media.send_poll),
    ("stopPoll", media.stop_poll),
    ("pinChatMessage", media.pin_chat_message),
    ("unpinChatMessage", media.unpin_chat_message),
    ("unpinAllChatMessages", media.unpin_all_chat_messages),
    ("getChatMember", chat_admin.get_chat_member),
    ("getChatMemberCount", chat_admin.get_chat_member_count),
    ("getChatMembersCount", chat_admin.get_chat_member_count),
    ("getChatAdministrators", chat_admin.get_chat_administrators),
    ("exportChatInviteLink", chat_admin.export_chat_invite_link),
    ("createChatInviteLink", chat_admin.create_chat_invite_link),
    ("editChatInviteLink", chat_admin.edit_chat_invite_link),
    ("revokeChatInviteLink", chat_admin.revoke_chat_invite_link),
    ("banChatMember", membership.ban_chat_member),
    ("kickChatMember", membership.ban_chat_member),
    ("unbanChatMember", membership.unban_chat_member),
    ("approveChatJoinRequest", membership.approve_chat_join_request),
    ("declineChatJoinRequest", membership.decline_chat_join_request),
    ("sendInvoice", payments.send_invoice),
    ("createInvoiceLink", payments.create_invoice_link),
    ("answerPreCheckoutQuery", payments.answer_pre_checkout_query),
    ("refundStarPayment", payments.refund_star_payment),
    ("editUserStarSubscription", payments.edit_user_star_subscription),
    ("getStarTransactions", payments.get_star_transactions),
]}


class JSONAnswer:
    """A Bot API answer as a bare WSGI app: what werkzeug's Response does, minus its per-call cost
    (header objects, iterable wrapping), which showed in the broadcast bench's sandbox profile."""

    __slots__ = ("body", "status")

    def __init__(self, text, status=200):
        self.body = text.encode()
        self.status = status

    @property
    def status_code(self):
        """The HTTP status, as on a werkzeug Response."""
        return self.status

    def __call__(self, environ, start_response):
        reason = HTTP_STATUS_CODES.get(self.status, "UNKNOWN").upper()
        start_response(f"{self.status} {reason}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(self.body)))])
        return [self.body]


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
        bot_id = parse_token(token)
        params = read_params(request)
    except ApiError as error:
        return error_response(error)
    delay = sandbox.state.latency_for(bot_id)
    if delay:
        time.sleep(delay)  # modelled distance to Telegram (POST /sandbox/latency)
    text, status = call_method(sandbox, token, method, params)
    return JSONAnswer(text, status)


def call_method(sandbox, token, method, params):
    """Run one Bot API call; return (JSON text of the answer, HTTP status)."""
    params = {name: decode_param(name, value) for name, value in params.items()}
    with sandbox.state.lock:
        # Serialized under the lock: results share dicts that later edits change.
        try:
            body, status = _call_locked(sandbox, token, method, params)
        except ApiError as error:  # a malformed parameter
            body, status = error.to_json(), error.error_code
        return json.dumps(body, ensure_ascii=False), status


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

"""Bot API methods that send media and places: video, audio, voice, video notes, albums,
locations, venues, dice, polls; editMessageMedia; pinning."""

import random
import secrets

from .content import caption_text, reply_markup
from .errors import bad_request
from .methods_edit import _editable_message, _mark_edited
from .methods_send import _caption, _send, target_chat
from .params import ATTACH_PREFIX, Upload

#: File kinds and what an upload of each becomes, with Telegram's default mime type.
MEDIA_KINDS = {
    "video": ("videos", "video/mp4"), "audio": ("music", "audio/mpeg"),
    "voice": ("voice", "audio/ogg"), "video_note": ("video_notes", "video/mp4"),
    "animation": ("animations", "video/mp4"),
}
#: Extra fields a sender may set on each kind of media object.
MEDIA_FIELDS = {
    "video": ("duration", "width", "height"), "audio": ("duration", "performer", "title"),
    "voice": ("duration",), "video_note": ("duration", "length"),
    "animation": ("duration", "width", "height"),
}
DICE_RANGES = {"🎲": 6, "🎯": 6, "🏀": 5, "⚽": 5, "🎳": 6, "🎰": 64}
MIN_ALBUM, MAX_ALBUM = 2, 10


def send_video(call):
    """sendVideo."""
    return _send_media(call, "video")


def send_audio(call):
    """sendAudio."""
    return _send_media(call, "audio")


def send_voice(call):
    """sendVoice: the voice keeps Telegram's audio/ogg type."""
    return _send_media(call, "voice")


def send_video_note(call):
    """sendVideoNote: a round video, without a caption."""
    return _send_media(call, "video_note", captioned=False)


def send_animation(call):
    """sendAnimation."""
    return _send_media(call, "animation")


def _send_media(call, kind, captioned=True):
    stored = media_file(call, call.params.get(kind), kind)
    body = {kind: described(stored, kind, call.params)}
    if captioned:
        body.update(_caption(call))
    return _send(call, body)


def media_file(call, value, kind):
    """Return the StoredFile an InputFile, attach:// name, file_id or URL designates."""
    if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
        value = call.params.get(value[len(ATTACH_PREFIX):])
        if not isinstance(value, Upload):
            raise bad_request("wrong file identifier/HTTP URL specified")
    files = call.state.files
    if isinstance(value, Upload):
        if kind == "photo":
            return files.add_photo(value.data)
        folder, mime_type = MEDIA_KINDS.get(kind, ("documents", None))
        return files.add_media(value.data, kind, folder, value.file_name,
                               value.mime_type if kind != "voice" else mime_type or "audio/ogg")
    if not value:
        raise bad_request(f"there is no {kind} in the request")
    if str(value).startswith(("http://", "https://")):
        # The sandbox does not fetch URLs: it keeps an empty file of the kind asked for.
        return files.add_media(b"", kind, "remote", None, MEDIA_KINDS.get(kind, ("", None))[1])
    stored = files.get(str(value))
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
        raise bad_request("type of file mismatch")
    return stored


def described(stored, kind, fields):
    """Return the Message field describing a stored file as `kind`."""
    if kind == "photo":
        return stored.as_photo_sizes()
    body = stored.as_document()
    if kind == "voice":
        body["mime_type"] = "audio/ogg"
    for name in MEDIA_FIELDS.get(kind, ()):
        if fields.get(name) not in (None, ""):
            body[name] = fields[name] if name in ("performer", "title") else int(fields[name])
    for name in MEDIA_FIELDS.get(kind, ()):
        if name not in ("performer", "title"):
            body.setdefault(name, 0)  # Telegram measures the file; the sandbox does not
    return body


def send_media_group(call):
    """sendMediaGroup: 2-10 photos/videos/documents/audios sharing one media_group_id."""
    media = call.params.get("media")
    if not isinstance(media, list) or not MIN_ALBUM <= len(media) <= MAX_ALBUM:
        raise bad_request("wrong number of media specified" if isinstance(media, list)
                          else "can't parse media JSON object")
    group_id = str(random.randrange(10**17, 10**18))
    bodies = [_album_item(call, item) for item in media]
    return [_send(call, {**body, "media_group_id": group_id}, with_markup=False)
            for body in bodies]


def _album_item(call, item):
    kind = item.get("type") if isinstance(item, dict) else None
    if kind not in ("photo", "video", "document", "audio"):
        raise bad_request("can't parse InputMedia JSON object")
    stored = media_file(call, item.get("media"), kind)
    body = {kind: described(stored, kind, item)}
    body.update(caption_text(item.get("caption"), item.get("parse_mode"),
                             item.get("caption_entities")))
    return body


def edit_message_media(call):
    """editMessageMedia: replace a bot message's photo/video/document/audio and caption."""
    media = call.params.get("media")
    kind = media.get("type") if isinstance(media, dict) else None
    if kind not in ("photo", "video", "document", "audio", "animation"):
        raise bad_request("can't parse InputMedia JSON object")
    record = _editable_message(call)
    message = record.message
    if not any(name in message for name in ("photo", "video", "document", "audio", "animation")):
        raise bad_request("there is no media in the message to edit")
    stored = media_file(call, media.get("media"), kind)
    for name in ("photo", "video", "document", "audio", "animation", "caption",
                 "caption_entities"):
        message.pop(name, None)
    message[kind] = described(stored, kind, media)
    message.update(caption_text(media.get("caption"), media.get("parse_mode"),
                                media.get("caption_entities")))
    record.set_markup(reply_markup(call.params.get("reply_markup")))
    return _mark_edited(record)


def send_location(call):
    """sendLocation."""
    return _send(call, {"location": _location(call)})


def send_venue(call):
    """sendVenue: a location with a title and an address."""
    title, address = call.str("title"), call.str("address")
    if not title or not address:
        raise bad_request("venue title and address must be non-empty")
    return _send(call, {"venue": {"location": _location(call), "title": title,
                                  "address": address},
                        "location": _location(call)})


def _location(call):
    latitude, longitude = call.number("latitude", None), call.number("longitude", None)
    if latitude is None or longitude is None or not (-90 <= latitude <= 90
                                                     and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    return {"latitude": latitude, "longitude": longitude}


def send_dice(call):
    """sendDice: a random value in the emoji's range (🎲 by default)."""
    emoji = call.str("emoji") or "🎲"
    if emoji not in DICE_RANGES:
        raise bad_request("invalid dice emoji specified")
    return _send(call, {"dice": {"emoji": emoji,
                                 "value": random.randint(1, DICE_RANGES[emoji])}})


def send_poll(call):
    """sendPoll: a regular or quiz poll of 2-10 options, open until stopPoll."""
    options = call.params.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= 10:
        raise bad_request("POLL_ANSWERS_INVALID")
    question = call.str("question")
    if not question:
        raise bad_request("POLL_QUESTION_INVALID")
    texts = [option.get("text") if isinstance(option, dict) else str(option) for option in options]
    kind = call.str("type") or "regular"
    poll = {"id": str(secrets.randbelow(10**18)), "question": question,
            "options": [{"persistent_id": str(number), "text": text, "voter_count": 0}
                        for number, text in enumerate(texts)],
            "total_voter_count": 0, "is_closed": call.bool("is_closed"),
            "is_anonymous": call.params.get("is_anonymous") in (None, "") or
            call.bool("is_anonymous"),
            "type": kind, "allows_multiple_answers": call.bool("allows_multiple_answers")}
    if kind == "quiz":
        poll["correct_option_id"] = call.int("correct_option_id", 0)
    return _send(call, {"poll": poll})


def stop_poll(call):
    """stopPoll: close a bot's poll and answer the final Poll."""
    record = _editable_message(call)
    poll = record.message.get("poll")
    if poll is None:
        raise bad_request("message with poll to stop not found")
    if poll["is_closed"]:
        raise bad_request("poll has already been closed")
    poll["is_closed"] = True
    return poll


def pin_chat_message(call):
    """pinChatMessage: the chat's pinned message (getChat shows it)."""
    chat = target_chat(call)
    record = chat.find(call.int("message_id", missing="message identifier is not specified"))
    if record is None:
        raise bad_request("message to pin not found")
    if record.message_id in chat.pinned:
        chat.pinned.remove(record.message_id)
    chat.pinned.append(record.message_id)
    return True


def unpin_chat_message(call):
    """unpinChatMessage: unpin one message (the last pinned when message_id is absent)."""
    chat = target_chat(call)
    message_id = call.int("message_id") or (chat.pinned[-1] if chat.pinned else None)
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    return True


def unpin_all_chat_messages(call):
    """unpinAllChatMessages."""
    chat = target_chat(call)
    chat.pinned.clear()
    return True


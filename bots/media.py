"""Pictures members send (receipts, ticket photos): downloaded from Telegram, then checked by app.services.images."""
from __future__ import annotations

from telebot.apihelper import ApiTelegramException

from app import redaction
from app.services import images

log = redaction.get_logger(__name__)


def received_image(telebot, file, *, must_read: bool) -> images.CleanImage | None:
    """The re-encoded picture of a PhotoSize or Document; raises images.ImageRejected when it is none.

    A file Telegram says is over the limit is refused before it is downloaded. When the download itself
    fails, a photo (Telegram re-encoded it already) is kept by its file_id alone (None); a document must
    be read (`must_read`), since nothing else vouches for it.
    """
    images.check_size(getattr(file, "file_size", None))
    content = _download(telebot, file.file_id)
    if content is None:
        if must_read:
            raise images.unreadable()
        return None
    return images.clean(content)


def _download(telebot, file_id: str) -> bytes | None:
    try:
        info = telebot.get_file(file_id)
        return telebot.download_file(info.file_path)
    except (ApiTelegramException, OSError) as exc:
        log.warning("image %s not downloaded: %s", file_id[:12], exc)
        return None

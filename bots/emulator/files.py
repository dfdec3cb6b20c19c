"""Stored file bytes, their ids and the PhotoSize / Document objects that describe them."""

import itertools
import mimetypes
import secrets
import struct
from dataclasses import dataclass, field

from .errors import bad_request

#: Telegram's photo sizes: thumbnails of these longest sides, then the picture itself up to 1280.
THUMBNAIL_SIDES = (90, 320, 800)
MAX_PHOTO_SIDE = 1280


@dataclass
class StoredFile:
    """One uploaded file, addressable by file_id and by file_path."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    kind: str = "document"
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    #: For photos: every size of the same picture, smallest first (this one included).
    sizes: list = field(default_factory=list, repr=False)

    def as_photo_size(self):
        """Return this size as a PhotoSize object."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "width": self.width, "height": self.height, "file_size": len(self.data)}

    def as_photo_sizes(self):
        """Return the `photo` field of a Message: every size of the picture, smallest first."""
        return [size.as_photo_size() for size in self.sizes or [self]]

    def as_document(self):
        """Return the `document` field of a Message."""
        document = {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                    "file_size": len(self.data)}
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def as_file(self):
        """Return the File object getFile answers."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.data), "file_path": self.file_path}


class FileStore:
    """Files by id and by path; callers hold the sandbox lock."""

    def __init__(self):
        self._by_id = {}
        self._by_path = {}
        self._numbers = itertools.count(1)

    def add_photo(self, data):
        """Store an image in Telegram's sizes and return the largest, or raise its 400."""
        width, height = image_dimensions(data)
        if not width or not height:
            raise bad_request("IMAGE_PROCESS_FAILED")
        suffix, mime_type = image_kind(data)
        sizes = [self._add(data, "photos", suffix, kind="photo", mime_type=mime_type,
                           width=size[0], height=size[1])
                 for size in photo_sizes(width, height)]
        for size in sizes:
            size.sizes = sizes
        return sizes[-1]

    def add_document(self, data, file_name=None, mime_type=None):
        """Store a document and return its StoredFile."""
        file_name = file_name or "document"
        mime_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        return self._add(data, "documents", suffix, kind="document", file_name=file_name,
                         mime_type=mime_type)

    def add_media(self, data, kind, folder, file_name=None, mime_type=None):
        """Store a video, audio, voice or other non-photo file of `kind` and return it."""
        if kind == "document":
            return self.add_document(data, file_name, mime_type)
        mime_type = mime_type or (mimetypes.guess_type(file_name)[0] if file_name else None)
        suffix = "." + file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
        return self._add(data, folder, suffix, kind=kind, file_name=file_name,
                         mime_type=mime_type)

    def get(self, file_id):
        """Return the file with this file_id, or None."""
        return self._by_id.get(file_id)

    def by_path(self, file_path):
        """Return the file served at this file_path, or None."""
        return self._by_path.get(file_path)

    def _add(self, data, folder, suffix, **details):
        number = next(self._numbers)
        stored = StoredFile(
            file_id=f"SBX{number}_{secrets.token_urlsafe(12)}",
            file_unique_id=f"U{number}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{number}{suffix}",
            data=bytes(data), **details)
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored


def photo_sizes(width, height):
    """Return the (width, height) Telegram keeps of a photo: thumbnails below it, then <= 1280."""
    longest = max(width, height)
    sizes = [_scaled(width, height, limit) for limit in THUMBNAIL_SIDES if longest > limit]
    sizes.append(_scaled(width, height, min(longest, MAX_PHOTO_SIDE)))
    return sizes


def _scaled(width, height, side):
    ratio = side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def image_kind(data):
    """Return (file suffix, mime type) of an image, assuming JPEG as Telegram re-encodes to it."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png", "image/png"
    if data[:4] == b"GIF8":
        return ".gif", "image/gif"
    return ".jpg", "image/jpeg"


def image_dimensions(data):
    """Return (width, height) of a PNG, GIF or JPEG image; (0, 0) if unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        return _jpeg_dimensions(data)
    return 0, 0


def _jpeg_dimensions(data):
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return 0, 0
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height
        position += 2 + length
    return 0, 0

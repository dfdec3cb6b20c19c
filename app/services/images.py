"""Images people send us (receipts, ticket photos, dashboard uploads): checked, re-encoded, stored, served.

One owner for the rule "we keep only pictures we have decoded ourselves":

- `clean(data)` refuses anything over `IMAGE_MAX_BYTES` (config) or `IMAGE_MAX_PIXELS`, anything Pillow
  cannot verify *and* fully decode as JPEG, PNG or WebP, then re-encodes the pixels (EXIF orientation
  applied, then every metadata chunk dropped: EXIF, GPS, ICC, text) as JPEG, or PNG when the picture
  has transparency or came as a PNG. Only these re-encoded bytes are ever stored.
- `store(clean_image, folder, stem)` writes them under the instance folder; `stored_path(relative)`
  resolves such a path without ever leaving the instance folder; `mime_type_of(data)` names a stored
  file's type from its first bytes (the dashboard serves it with that type and `nosniff`).

A 20 MB HTML file sent as `image/png` fails the size check before it is decoded; a small one fails
`verify`. Either way the caller shows `ImageRejected`'s translated text (code `image_rejected` /
`image_too_large`).
"""
from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from app.services.errors import DomainError

log = logging.getLogger(__name__)

#: Input formats we decode (what phones and bank apps produce; MPO is a phone camera's multi-picture JPEG).
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
JPEG_QUALITY = 90
_OUTPUTS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


class ImageRejected(DomainError):
    """Not a picture we can read (or a damaged one)."""

    code = "image_rejected"


class ImageTooLarge(ImageRejected):
    """Over the size (bytes) or dimension (pixels) limit."""

    code = "image_too_large"


@dataclass(frozen=True)
class CleanImage:
    """Re-encoded image bytes with no metadata, and what they are."""

    data: bytes
    mime_type: str
    extension: str
    width: int
    height: int


def unreadable() -> ImageRejected:
    return ImageRejected(_l("This file is not a picture we can read. Send a JPEG or PNG image."))


def too_large() -> ImageTooLarge:
    megabytes = max(1, max_bytes() // (1024 * 1024))
    return ImageTooLarge(_l("The picture is too large (at most %(size)s MB).", size=megabytes), limit=max_bytes())


def max_bytes() -> int:
    return int(current_app.config.get("IMAGE_MAX_BYTES") or DEFAULT_MAX_BYTES)


def check_size(size: int | None) -> None:
    """Refuse a file Telegram (or a form) says is over the limit, before downloading it."""
    if size is not None and size > max_bytes():
        raise too_large()


def clean(data: bytes) -> CleanImage:
    """Verify, decode and re-encode `data`; raise ImageRejected (or ImageTooLarge) when it is no picture."""
    check_size(len(data))
    image = _decoded(data)
    try:
        return _reencoded(image)
    finally:
        image.close()


def _decoded(data: bytes) -> Image.Image:
    """The fully decoded picture: `verify` on one parse, then a fresh parse that loads every pixel."""
    limit = int(current_app.config.get("IMAGE_MAX_PIXELS") or DEFAULT_MAX_PIXELS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                _check_header(probe, limit)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            _check_header(image, limit)
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large() from exc
    except (OSError, SyntaxError, ValueError, TypeError, EOFError, MemoryError) as exc:
        log.info("image refused: %s", exc.__class__.__name__)
        raise unreadable() from exc
    return image


def _check_header(image: Image.Image, limit: int) -> None:
    if image.format not in ACCEPTED_FORMATS:
        raise unreadable()
    if image.width * image.height > limit:
        raise too_large()


def _reencoded(image: Image.Image) -> CleanImage:
    """The pixels only (EXIF orientation applied first), as PNG when the source was PNG or has alpha."""
    try:
        upright = ImageOps.exif_transpose(image)
        alpha = _has_alpha(upright)
        mode = "RGBA" if alpha else ("L" if upright.mode in ("1", "L") else "RGB")
        bare = Image.new(mode, upright.size)  # a new image carries no `info`: no EXIF, ICC, text chunks
        bare.paste(upright.convert(mode))
        kind = "PNG" if image.format == "PNG" or alpha else "JPEG"
        out = io.BytesIO()
        if kind == "JPEG":
            bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        else:
            bare.save(out, "PNG", optimize=True)
    except (OSError, ValueError) as exc:
        raise unreadable() from exc
    mime_type, extension = _OUTPUTS[kind]
    return CleanImage(out.getvalue(), mime_type, extension, bare.width, bare.height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def store(image: CleanImage, folder: str, stem: str) -> str:
    """Write the clean bytes to <instance>/<folder>/<stem><ext>; the path relative to the instance folder."""
    relative = Path(folder) / f"{stem}{image.extension}"
    target = Path(current_app.instance_path) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(image.data)
    return relative.as_posix()


def stored_path(relative: str | None) -> Path | None:
    """A stored image's file if it lies inside the instance folder (never follow a path out of it)."""
    if not relative:
        return None
    root = Path(current_app.instance_path).resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def mime_type_of(path: Path) -> str | None:
    """The stored file's type from its first bytes; None when it is not a JPEG or PNG (never served)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((mime for magic, mime in _MAGIC if head.startswith(magic)), None)

"""Images people upload in the dashboard (a receipt of a wallet top-up): checked before anything keeps them."""
from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from app.services.errors import ValidationFailed

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
#: Pillow format → the file extension the image is stored under.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def checked_image(data: bytes) -> tuple[bytes, str]:
    """(the bytes to store, their extension) for an uploaded receipt image, or ValidationFailed.

    One small function on purpose: a re-encoding check (hardening) can replace it without touching callers.
    """
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed(f"Choose an image (JPEG, PNG or WebP) of at most {MAX_IMAGE_BYTES // 2**20} MB.")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format
            if picture.width * picture.height > MAX_IMAGE_PIXELS:
                raise ValidationFailed("This image is too large.")
            picture.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed("This file is not an image we can read (JPEG, PNG or WebP).") from None
    if kind not in IMAGE_FORMATS:
        raise ValidationFailed("This file is not an image we can read (JPEG, PNG or WebP).")
    return data, IMAGE_FORMATS[kind]

"""Images people upload in the dashboard (a receipt of a wallet top-up): checked before anything keeps them."""
from __future__ import annotations

from app.services import images
from app.services.errors import ValidationFailed

MAX_IMAGE_BYTES = 5 * 1024 * 1024


def checked_image(data: bytes) -> tuple[bytes, str]:
    """(the bytes to store, their extension) for an uploaded receipt image, or ValidationFailed.

    The bytes are app.services.images' re-encoded copy (verified, decoded, metadata dropped), never the upload.
    """
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed(f"Choose an image (JPEG, PNG or WebP) of at most {MAX_IMAGE_BYTES // 2**20} MB.")
    try:
        clean = images.clean(data)
    except images.ImageRejected as refused:
        raise ValidationFailed(refused.message) from None
    return clean.data, clean.extension.lstrip(".")

"""Sealed backup files: gzip-compressed, then encrypted in authenticated Fernet frames.

Fernet (from `cryptography`) authenticates each token but holds a whole message in memory, so the
stream is cut into 1 MiB frames: `MAGIC`, then per frame a 4-byte length and a Fernet token of
`flag byte + data`; the last frame has flag 1. A missing last frame (a truncated file), a frame from
another file or a wrong key all fail with BackupCorrupt instead of restoring part of a database.
"""
from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken

MAGIC = b"BOTFLEET-BACKUP-1\n"
FRAME = 1024 * 1024
_LENGTH = struct.Struct(">I")


class BackupCorrupt(Exception):
    """The file is not a complete backup sealed with this key."""


def seal(plain: Path, sealed: Path, key: str) -> int:
    """Compress and encrypt `plain` into `sealed`; returns the sealed size in bytes."""
    packed = sealed.with_suffix(sealed.suffix + ".gz-tmp")
    with plain.open("rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, FRAME)
    fernet = Fernet(key)
    with packed.open("rb") as src, sealed.open("wb") as dst:
        dst.write(MAGIC)
        chunk = src.read(FRAME)
        while True:
            following = src.read(FRAME)
            _write_frame(dst, fernet, chunk, last=not following)
            if not following:
                break
            chunk = following
    packed.unlink()
    return sealed.stat().st_size


def unseal(sealed: Path, plain: Path, key: str) -> None:
    """Decrypt and decompress `sealed` into `plain`, or raise BackupCorrupt."""
    packed = plain.with_suffix(plain.suffix + ".gz-tmp")
    fernet = Fernet(key)
    with sealed.open("rb") as src, packed.open("wb") as dst:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupCorrupt("not a Botfleet backup file")
        while not _read_frame(src, dst, fernet):
            pass
    try:
        with gzip.open(packed, "rb") as src, plain.open("wb") as dst:
            shutil.copyfileobj(src, dst, FRAME)
    except (OSError, EOFError) as err:
        raise BackupCorrupt(f"the compressed dump is damaged: {err}") from None
    finally:
        packed.unlink()


def _write_frame(dst: BinaryIO, fernet: Fernet, data: bytes, *, last: bool) -> None:
    token = fernet.encrypt((b"\x01" if last else b"\x00") + data)
    dst.write(_LENGTH.pack(len(token)) + token)


def _read_frame(src: BinaryIO, dst: BinaryIO, fernet: Fernet) -> bool:
    """Write one frame's data; True when it was the last frame."""
    head = src.read(_LENGTH.size)
    if len(head) != _LENGTH.size:
        raise BackupCorrupt("the file ends before its last frame (truncated?)")
    token = src.read(_LENGTH.unpack(head)[0])
    try:
        data = fernet.decrypt(token)
    except InvalidToken:
        raise BackupCorrupt("a frame does not decrypt with BACKUP_ENCRYPTION_KEY (wrong key or damaged)") from None
    dst.write(data[1:])
    return data[:1] == b"\x01"

"""The key that seals snapshots, kept in a file outside the database.

Whoever can UPDATE the snapshots table could recompute any digest stored beside a snapshot;
they cannot compute an HMAC without this key. The file holds 32 random bytes (hex); it is made,
readable by its owner only, the first time it is needed, unless it already exists.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("planapi.snapshots")

KEY_BYTES = 32


class SnapshotKeyError(Exception):
    """The key file exists but holds no usable key."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; a new one written there (mode 0600) if the file does not exist."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        # O_EXCL: two processes starting at once agree on the first key written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as file:
        file.write(key.hex() + "\n")
    log.info("created the snapshot key %s", path)
    return key


def _read(path: Path) -> bytes:
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise SnapshotKeyError(f"{path}: the snapshot key must be hexadecimal") from None
    if len(key) < KEY_BYTES:
        raise SnapshotKeyError(f"{path}: the snapshot key must be at least {KEY_BYTES} bytes")
    if path.stat().st_mode & 0o077:
        log.warning("the snapshot key %s is readable by others than its owner", path)
    return key

"""The checkpoint signing key, read from outside the database: a file or an environment value."""

from __future__ import annotations

import os
from pathlib import Path

from planapi.domain.notes import NoteError, SignerKey, VerifierKey


class SigningKeyError(ValueError):
    """The configured signing key cannot be used; the message names the setting."""


def load_signer(key_file: str | None, key_text: str | None) -> SignerKey | None:
    if key_file and key_text:
        raise SigningKeyError(
            "set one of PLANAPI_LOG_SIGNING_KEY_FILE and PLANAPI_LOG_SIGNING_KEY, not both"
        )
    if key_file:
        try:
            key_text = Path(key_file).read_text(encoding="utf-8")
        except OSError as error:
            raise SigningKeyError(f"PLANAPI_LOG_SIGNING_KEY_FILE: {error}") from error
        setting = "PLANAPI_LOG_SIGNING_KEY_FILE"
    else:
        setting = "PLANAPI_LOG_SIGNING_KEY"
    if not key_text:
        return None
    try:
        return SignerKey.parse(key_text)
    except NoteError as error:
        raise SigningKeyError(f"{setting}: {error}") from error


def load_past_keys(text: str) -> tuple[VerifierKey, ...]:
    try:
        return tuple(VerifierKey.parse(each) for each in text.split(",") if each.strip())
    except NoteError as error:
        raise SigningKeyError(f"PLANAPI_LOG_PAST_KEYS: {error}") from error


def write_signer(path: Path, key: SignerKey) -> None:
    """Creates the key file readable by its owner only; never overwrites one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key.encode() + "\n")
